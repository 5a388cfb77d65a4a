"""``ser-studio``: start the desktop app.

    ser-studio [FILES...] [--open PATH...] [--model BUNDLE] [--screenshot OUT.png] [--quit-when-idle]
    ser-studio --selftest | --selftest-train

``--screenshot`` and ``--quit-when-idle`` are for scripts (benchmarks, pictures, tests): see
:mod:`desktop.harness`.
"""

import argparse
import logging
import os
import sys


def build_parser():
    p = argparse.ArgumentParser(prog="ser-studio", description="SER Studio: speech emotion recognition.")
    p.add_argument("files", nargs="*", help="audio files or folders to analyse")
    p.add_argument("--open", nargs="+", default=[], metavar="PATH", help="same as FILES")
    p.add_argument("--model", metavar="BUNDLE", help="use this model bundle instead of the active one")
    p.add_argument("--screenshot", metavar="PNG", help="save a screenshot of the window when idle")
    p.add_argument("--quit-when-idle", action="store_true", help="exit once the queue is analysed")
    p.add_argument("--selftest", action="store_true",
                   help="label the bundled samples offscreen, print the labels, exit 0 if all worked")
    p.add_argument("--selftest-train", action="store_true",
                   help="train a tiny model on the bundled samples, exit 0 if it trains and labels")
    return p


def _frozen_environment():
    """Keep Keras's config file (~/.keras) with the app's other user files. A frozen app writes
    nothing into its install folder. Two libraries settle their own folders: PyInstaller's
    matplotlib hook gives matplotlib a temporary MPLCONFIGDIR, and numba caches librosa's
    compiled functions in ~/.cache/numba (NUMBA_CACHE_DIR needs the .py sources, which a
    frozen app does not have)."""
    if getattr(sys, "frozen", False) and not os.environ.get("KERAS_HOME"):
        from ser_engine.paths import user_cache_dir

        os.environ["KERAS_HOME"] = str(user_cache_dir() / "keras")


def _log_to_file():
    from ser_engine.paths import user_log_dir

    try:
        folder = user_log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(folder / "ser-studio.log", encoding="utf-8")
    except OSError:
        return
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)


def _set_identity(app):
    """Window icon, and the desktop file name so the menu entry and the window group together."""
    from PySide6.QtGui import QIcon

    from ser_engine.paths import resources_dir

    app.setDesktopFileName("ser-studio")
    icon = resources_dir() / "icons" / "ser-studio.svg"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))


def main(argv=None):
    # a frozen app re-executes itself for child processes (training): let them run, not the GUI
    import multiprocessing
    multiprocessing.freeze_support()
    args = build_parser().parse_args(argv)
    _frozen_environment()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().handlers[0].setLevel(logging.WARNING)
    _log_to_file()
    if args.selftest or args.selftest_train:
        from . import selftest
        return selftest.run_selftest_train() if args.selftest_train else selftest.run_selftest()
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from .crash_handler import CrashHandler
    from .harness import mark
    from .main_window import MainWindow
    from .settings import APPLICATION, ORGANISATION
    from .startup_objects import freeze_after_startup

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    _set_identity(app)
    # nobody answers a dialog in a scripted run (--screenshot, --quit-when-idle): the log has it
    crash_handler = CrashHandler(app, show_dialog=not (args.screenshot or args.quit_when_idle))
    crash_handler.install()
    scripted = bool(args.screenshot or args.quit_when_idle)
    window = MainWindow(model_path=args.model, restore_queue=not scripted)  # a script analyses what it was given
    freeze_after_startup(window.session)
    window.show()
    mark("window")
    if not window.isVisible():
        print("ser-studio: the window could not be shown", file=sys.stderr)
        window.shutdown()
        return 1
    paths = list(args.files) + list(args.open)
    if paths:
        QTimer.singleShot(0, lambda: window.open_paths(paths) if not scripted else window.add_paths(paths))
    if args.screenshot or args.quit_when_idle:
        from .harness import IdleHarness

        IdleHarness(app, window, screenshot=args.screenshot, quit_when_idle=args.quit_when_idle)
    try:
        return app.exec()
    finally:
        window.shutdown()
        crash_handler.uninstall()


def launch():
    """The ``ser-studio`` command. (PySide6 6.12.0 lost a reference to ``None`` on every call
    of a method returning nothing, so a session aborted in the interpreter's teardown, or
    mid-session after enough calls: "Fatal Python error: none_dealloc"/"bool_dealloc". The
    pin to 6.11.3 fixes it; tests/desktop/test_pyside_refcounts.py guards the pin.)"""
    sys.exit(main())


if __name__ == "__main__":
    launch()
