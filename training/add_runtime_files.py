"""Add the light-runtime files (``model.tflite``, ``filters.npz``) to an existing bundle.

    python -m training.add_runtime_files resources/model

Converts the bundle's ``model.keras`` without retraining; the manifest keeps its
evaluation figures and gains the two files' hashes. New bundles get the files when they
are written (:func:`ser_engine.bundle.write_bundle`).
"""

import argparse
import logging

from ser_engine.bundle import add_runtime_files, load_bundle
from ser_engine.runtime import quiet_tensorflow


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("bundle", help="a model bundle folder")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    quiet_tensorflow()
    add_runtime_files(args.bundle)
    print(f"{args.bundle}: {sorted(load_bundle(args.bundle).files)}")


if __name__ == "__main__":
    main()
