import os

import numpy as np

from ser_engine.housekeeping import cache_size, clear_cache, folder_size, format_size, storage
from ser_engine.paths import user_cache_dir, user_data_dir, user_log_dir


def _fill(folder, files):
    for rel, size in files.items():
        p = folder / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x" * size)


def test_clear_cache_removes_only_the_cache(tmp_path):
    _fill(user_cache_dir(), {"features/ab/abcd.npy": 1000, "numba/f.nbi": 200, "loose.tmp": 5})
    _fill(user_data_dir(), {"models/mine/manifest.json": 10, "active_model.json": 10})
    _fill(user_log_dir(), {"ser-studio.log": 10})
    outside = tmp_path / "outside"
    _fill(outside, {"keep.wav": 7})
    os.symlink(outside, user_cache_dir() / "link-out")  # a link in the cache is removed, not followed
    assert cache_size() == 1205  # the link is not followed
    freed, failed = clear_cache()
    assert failed == [] and freed >= 1205
    assert user_cache_dir().is_dir() and list(user_cache_dir().iterdir()) == []
    assert (outside / "keep.wav").read_bytes() == b"x" * 7
    assert folder_size(user_data_dir()) == (20, 2) and folder_size(user_log_dir()) == (10, 1)


def test_clear_cache_without_a_cache_folder():
    assert not user_cache_dir().exists()
    assert clear_cache() == (0, [])


def test_a_training_run_after_clearing_recomputes_features(tmp_path, rng):
    from ser_engine.features import FeatureConfig
    from training.cache import FeatureCache

    cache = FeatureCache(FeatureConfig())
    X = rng.standard_normal((5, FeatureConfig().n_features)).astype(np.float32)
    cache.put("ab" * 32, X)
    assert cache.get("ab" * 32) is not None and cache_size() > 0
    clear_cache()
    assert cache.get("ab" * 32) is None  # a miss, not an error
    cache.put("ab" * 32, X)
    np.testing.assert_array_equal(cache.get("ab" * 32), X)


def test_storage_lists_the_three_folders():
    _fill(user_log_dir(), {"ser-studio.log": 1500})
    folders = {f.name: f for f in storage()}
    assert list(folders) == ["data", "cache", "logs"]
    assert folders["logs"].path == user_log_dir() and folders["logs"].size == 1500 and folders["logs"].files == 1
    assert folders["cache"].size == 0 and "clear" in folders["cache"].purpose


def test_format_size():
    assert [format_size(n) for n in (0, 999, 1500, 2_500_000, 7 * 10 ** 9)] == [
        "0 bytes", "999 bytes", "1.5 kB", "2.5 MB", "7.0 GB"]
