"""Chapter 9's data: the Japanese Vowels set, loaded offline from aeon's bundled copy."""

import socket

import numpy as np
import pytest
import torch

from mlpbook import data

# The original study's split (Kudo, Toyama & Shimbo 1999): utterances per speaker.
PER_SPEAKER = {"train": [30] * 9, "test": [31, 35, 88, 44, 29, 24, 40, 50, 29]}


@pytest.fixture(scope="module")
def vowels():
    return {split: data.load_japanese_vowels(split) for split in ("train", "test")}


@pytest.mark.parametrize("split", ["train", "test"])
def test_japanese_vowels_has_the_published_split_and_shapes(vowels, split):
    utterances, speakers = vowels[split]
    assert isinstance(utterances, list) and len(utterances) == sum(PER_SPEAKER[split])
    assert speakers.dtype == torch.int64 and speakers.shape == (len(utterances),)
    assert torch.bincount(speakers, minlength=9).tolist() == PER_SPEAKER[split]
    for u in utterances:
        assert u.dtype == torch.float32 and u.ndim == 2 and u.shape[1] == 12
        assert 7 <= u.shape[0] <= 29
        assert torch.isfinite(u).all()


def test_japanese_vowels_frames_are_rows_in_time_order(vowels):
    """Row t of an utterance is frame t: it matches the first line of aeon's file."""
    from aeon.datasets import load_classification

    X, y = load_classification("JapaneseVowels", split="train")
    utterances, speakers = vowels["train"]
    for k in (0, 135, 269):
        assert torch.equal(utterances[k], torch.as_tensor(X[k].T, dtype=torch.float32))
    assert speakers.tolist() == (y.astype(np.int64) - 1).tolist()


def test_japanese_vowels_loads_without_the_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the loader tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    utterances, speakers = data.load_japanese_vowels("test")
    assert len(utterances) == len(speakers) == 370


def test_japanese_vowels_is_the_same_on_every_call(vowels):
    again, speakers = data.load_japanese_vowels("train")
    assert all(torch.equal(a, b) for a, b in zip(again, vowels["train"][0]))
    assert torch.equal(speakers, vowels["train"][1])


@pytest.mark.parametrize("split", ["TRAIN", "validation", "", None, 0])
def test_japanese_vowels_rejects_an_unknown_split(split):
    with pytest.raises(ValueError, match=r"split: expected one of \['train', 'test'\]"):
        data.load_japanese_vowels(split)
