"""Screenshot of the Train tab (docs/train_tab.png) after a real run, driven offscreen.

    QT_QPA_PLATFORM=offscreen python bench/train_tab_screenshot.py --data DIR [--preset full] [--out PNG]
    QT_QPA_PLATFORM=offscreen python bench/train_tab_screenshot.py --data DIR --report RUN_DIR [--out PNG]

The first form picks the folder, presses Start and waits for the run to finish, exactly as a
user would; the second shows a finished run's report folder (e.g. one of bench_rebuild's) in
the tab, for a picture without training again. Either way the window is the real MainWindow.
"""

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "ravdess-speech-16k"))
    p.add_argument("--preset", default="full")
    p.add_argument("--report", default=None, help="show this finished run instead of training")
    p.add_argument("--out", default=str(REPO / "docs" / "train_tab.png"))
    p.add_argument("--size", default="1500x940")
    args = p.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from desktop.main_window import MainWindow

    app = QApplication.instance() or QApplication(["ser-studio"])
    w = MainWindow(playback=False)
    w.resize(*map(int, args.size.split("x")))
    w.show()
    tab = w.train_tab
    w.tabs.setCurrentWidget(tab)

    def wait_for(signal, timeout_s):
        loop = QEventLoop()
        got = []
        signal.connect(lambda *a: (got.append(a), loop.quit()))
        QTimer.singleShot(int(timeout_s * 1000), loop.quit)
        loop.exec()
        return got[0] if got else None

    tab.set_folder(args.data)
    if not wait_for(tab.folder_scanned, 60):
        raise SystemExit("the folder scan did not finish")
    tab.set_preset(args.preset)
    if args.report:
        tab.show_finished_run(args.report)
        tab.phase_label.setText("Finished")
        tab.progress.setValue(1000)
    else:
        t0 = time.perf_counter()
        tab.start()
        status = wait_for(tab.run_finished, 3600)
        print(f"run finished: {status} in {(time.perf_counter() - t0) / 60:.1f} min", flush=True)
    if not w.is_idle():  # the model still loading: the status bar would say so in the picture
        wait_for(w.idle, 300)
    for _ in range(20):
        app.processEvents()
        time.sleep(0.05)
    ok = w.grab().save(args.out)
    print(f"saved {args.out}: {ok}")
    w.close()
    return 0 if ok else 1


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)
