"""``python -m desktop`` and the frozen app's entry point (build.spec): same as ``ser-studio``."""

from desktop.app import launch

if __name__ == "__main__":
    launch()
