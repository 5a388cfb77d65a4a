"""``ser-studio``: start the desktop app.

    ser-studio [FILES...] [--model BUNDLE] [--screenshot OUT.png --quit-when-idle]
"""

import argparse
import logging
import sys


def build_parser():
    p = argparse.ArgumentParser(prog="ser-studio", description="SER Studio: speech emotion recognition.")
    p.add_argument("files", nargs="*", help="audio files or folders to analyse")
    p.add_argument("--open", nargs="+", default=[], metavar="PATH", help="same as FILES")
    p.add_argument("--model", metavar="BUNDLE", help="use this model bundle instead of the active one")
    p.add_argument("--screenshot", metavar="PNG", help="save a screenshot of the window when idle")
    p.add_argument("--quit-when-idle", action="store_true", help="exit once the queue is analysed")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from .main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("SER Studio")
    window = MainWindow(model_path=args.model)
    window.show()
    paths = list(args.files) + list(args.open)
    if paths:
        QTimer.singleShot(0, lambda: window.add_paths(paths))

    def on_idle():
        if args.screenshot:
            app.processEvents()
            ok = window.grab().save(args.screenshot)
            if not ok:
                print(f"ser-studio: could not save {args.screenshot}", file=sys.stderr)
                app.exit(1)
                return
        if args.quit_when_idle:
            app.exit(0)

    if args.screenshot or args.quit_when_idle:
        window.idle.connect(on_idle)
    try:
        return app.exec()
    finally:
        window.shutdown()


if __name__ == "__main__":
    sys.exit(main())
