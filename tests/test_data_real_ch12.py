"""Chapter 12's data: census surnames (names) and word lists (wordfreq), loaded offline."""

import socket
import string
from pathlib import Path

import pytest
import torch

from mlpbook import data


@pytest.fixture(scope="module")
def surnames():
    return data.load_surnames()


def test_surnames_are_the_whole_census_list_lowercase_and_distinct(surnames):
    assert isinstance(surnames, list) and len(surnames) == 88_799
    assert len(set(surnames)) == len(surnames)
    assert set("".join(surnames)) == set(string.ascii_lowercase)
    assert min(map(len, surnames)) == 2 and max(map(len, surnames)) == 13


def test_surnames_keep_the_census_order_most_frequent_first(surnames):
    import names

    first_line = (Path(names.__file__).parent / "dist.all.last").read_text().splitlines()[0]
    assert surnames[0] == first_line.split()[0].lower() == "smith"
    assert surnames[:5] == ["smith", "johnson", "williams", "jones", "brown"]


def refuse(*args, **kwargs):
    raise OSError("network access during a test")


def test_loaders_need_no_network(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert len(data.load_surnames()) == 88_799
    assert len(data.load_words(("nl", "sv"), 50)["sv"]) == 50


def test_words_are_letters_only_in_the_order_asked_and_the_size_asked():
    words = data.load_words(("fr", "en", "de"), 400)
    assert list(words) == ["fr", "en", "de"]
    for language, listed in words.items():
        assert len(listed) == 400
        assert all(w.isalpha() and w == w.lower() for w in listed), language


def test_words_are_wordfreqs_most_frequent_ones_in_order():
    import wordfreq

    listed = data.load_words(("es",), 300)["es"]
    reference = [w for w in wordfreq.top_n_list("es", 1000) if w.isalpha()][:300]
    assert listed == reference
    frequencies = [wordfreq.word_frequency(w, "es") for w in listed]
    assert frequencies == sorted(frequencies, reverse=True)


def test_words_default_to_seven_latin_script_languages():
    words = data.load_words(n_per_language=10)
    assert tuple(words) == data.WORD_LANGUAGES_DEFAULT == ("en", "fr", "de", "es", "it",
                                                           "nl", "pt")
    assert "de" in words["fr"] and "de" in words["es"]  # shared words are kept in each list


@pytest.mark.parametrize("call, error, message", [
    (lambda: data.load_words(("en", "klingon"), 10), ValueError,
     r"languages: expected one of \[.*'en'.*\], received 'klingon'"),
    (lambda: data.load_words(("EN",), 10), ValueError, "languages: expected one of"),
    (lambda: data.load_words("en", 10), TypeError, "languages: expected a list or tuple"),
    (lambda: data.load_words((), 10), ValueError, "languages: expected at least one"),
    (lambda: data.load_words(("en", "en"), 10), ValueError, "expected distinct codes"),
    (lambda: data.load_words(("en",), 0), ValueError, "n_per_language: expected an int >= 1"),
    (lambda: data.load_words(("en",), 2.5), TypeError, "n_per_language: expected an int"),
    (lambda: data.load_words(("en",), True), TypeError, "n_per_language: expected an int"),
    (lambda: data.load_words(("is",), 10**7), ValueError, "n_per_language: expected at most"),
])
def test_load_words_rejects_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_the_experiment_checks_score_names_and_words_their_training_part_lacks():
    from mlpbook.check import ch12

    names_train, names_test = ch12._surname_split()
    assert (len(names_train), len(names_test)) == (71_039, 8_880)
    assert not set(names_train) & set(names_test)
    words_train, y_train, words_test, y_test = ch12._word_split()
    assert len(words_train) == len(y_train) and len(words_test) == len(y_test)
    assert not set(words_train) & set(words_test)
    assert y_train.dtype == y_test.dtype == torch.int64
    assert set(y_test.tolist()) == set(range(len(data.WORD_LANGUAGES_DEFAULT)))
