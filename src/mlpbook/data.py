"""Every data set the book uses, in one place, offline.

Synthetic 2-D sets (Part I) return ``X`` of shape ``(n, 2)``, ``float32``, and ``y`` of
shape ``(n,)``, ``int64``: class indices 0, 1, ..., ready for cross-entropy (use
``y.float()`` for the binary cross-entropy, whose targets are probabilities). Every
loader of class labels returns them as ``int64``. The synthetic sets are seeded: the
same arguments give the same tensors on every machine.

Real data sets (Part II) come from packages installed by ``requirements.txt``;
nothing is downloaded at run time. Each loader's docstring gives the source,
the licence and the citation.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from sklearn import datasets as skdatasets
from sklearn.model_selection import train_test_split

from . import _validate

GATES = {
    "and": (0, 0, 0, 1),
    "or": (0, 1, 1, 1),
    "nand": (1, 1, 1, 0),
    "nor": (1, 0, 0, 0),
    "xor": (0, 1, 1, 0),
}


def _tensors(X: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y, dtype=torch.int64)


def logic_gate(name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Truth table of a two-input gate: ``X`` (4, 2) in {0, 1}, ``y`` (4,).

    ``name`` is one of ``and``, ``or``, ``nand``, ``nor``, ``xor``.
    """
    _validate.choice(name, "name", GATES)
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    return _tensors(X, np.array(GATES[name]))


def blobs(n: int = 100, margin: float = 0.3, seed: int = 0):
    """Two Gaussian clouds separated by the line ``x1 + x2 = 0`` with a gap.

    Points closer to the line than ``margin`` (Euclidean distance) are
    dropped, so the classes are linearly separable with margin >= ``margin``.
    Returns ``X`` (n, 2) and ``y`` (n,), with ``y = 1`` above the line.
    """
    n = _validate.positive_int(n, "n", minimum=2)
    margin = _validate.fraction(margin, "margin", low=0.0, high=1.0)
    rng = np.random.default_rng(seed)
    kept = []
    while sum(len(k) for k in kept) < n:
        labels = rng.integers(0, 2, size=n)
        centres = np.where(labels[:, None] == 1, 1.0, -1.0) * np.array([0.9, 0.9])
        points = centres + rng.normal(scale=0.6, size=(n, 2))
        distance = points.sum(axis=1) / math.sqrt(2)
        ok = (np.abs(distance) >= margin) & ((distance > 0) == (labels == 1))
        kept.append(np.column_stack([points[ok], labels[ok]]))
    table = np.concatenate(kept)[:n]
    return _tensors(table[:, :2], table[:, 2])


def xor(n: int = 200, noise: float = 0.15, seed: int = 0):
    """Noisy XOR: four clouds at the corners of the unit square.

    Returns ``X`` (n, 2) and ``y`` (n,), with ``y = x1 XOR x2`` of the corner.
    """
    n = _validate.positive_int(n, "n", minimum=4)
    noise = _validate.fraction(noise, "noise", high=1.0)
    rng = np.random.default_rng(seed)
    corners = rng.integers(0, 2, size=(n, 2))
    X = corners + rng.normal(scale=noise, size=(n, 2))
    return _tensors(X, corners[:, 0] ^ corners[:, 1])


def moons(n: int = 200, noise: float = 0.2, seed: int = 0):
    """Two interleaving half-circles (scikit-learn's ``make_moons``)."""
    n = _validate.positive_int(n, "n", minimum=2)
    noise = _validate.fraction(noise, "noise", high=1.0)
    return _tensors(*skdatasets.make_moons(n, noise=noise, random_state=seed))


def circles(n: int = 200, noise: float = 0.1, factor: float = 0.5, seed: int = 0):
    """A small circle inside a larger one (scikit-learn's ``make_circles``)."""
    n = _validate.positive_int(n, "n", minimum=2)
    noise = _validate.fraction(noise, "noise", high=1.0)
    factor = _validate.fraction(factor, "factor", low=0.01, high=0.99)
    return _tensors(
        *skdatasets.make_circles(n, noise=noise, factor=factor, random_state=seed)
    )


def spirals(n: int = 300, classes: int = 3, noise: float = 0.2, seed: int = 0):
    """``classes`` interleaved spiral arms with ``n // classes`` points each.

    Arm ``k`` follows angle ``t * 4 + 2*pi*k/classes`` at radius ``t`` for
    ``t`` in [0, 1], plus Gaussian noise on the angle.
    """
    n = _validate.positive_int(n, "n", minimum=2)
    classes = _validate.positive_int(classes, "classes", minimum=2)
    noise = _validate.fraction(noise, "noise", high=1.0)
    rng = np.random.default_rng(seed)
    per_class = n // classes
    t = np.tile(np.linspace(0.0, 1.0, per_class), classes)
    label = np.repeat(np.arange(classes), per_class)
    angle = 4.0 * t + 2 * math.pi * label / classes + rng.normal(scale=noise, size=t.size)
    X = np.column_stack([t * np.cos(angle), t * np.sin(angle)])
    return _tensors(X, label)


def split(X, y, *, val: float = 0.2, test: float = 0.2, seed: int = 0, stratify: bool = True):
    """Split into train, validation and test sets, stratified by ``y``.

    ``val`` and ``test`` are fractions of all rows. Returns
    ``X_train, y_train, X_val, y_val, X_test, y_test``.
    """
    X = _validate.tensor(X, "X")
    y = _validate.tensor(y, "y", ndim=1)
    _validate.same_length(X=X, y=y)
    val = _validate.fraction(val, "val", high=0.9)
    test = _validate.fraction(test, "test", high=0.9)
    if val + test >= 1:
        raise ValueError(f"val + test: expected less than 1, received {val + test}")
    index = np.arange(len(y))
    labels = y.numpy() if stratify else None
    rest, test_idx = train_test_split(index, test_size=test, random_state=seed, stratify=labels)
    rest_labels = labels[rest] if stratify else None
    train_idx, val_idx = train_test_split(
        rest, test_size=val / (1 - test), random_state=seed, stratify=rest_labels
    )
    parts = []
    for idx in (train_idx, val_idx, test_idx):
        idx = torch.as_tensor(np.sort(idx))
        parts += [X[idx], y[idx]]
    return tuple(parts)


DIGITS_IMAGE_SHAPE = (8, 8)


def load_digits(n_class: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    """Handwritten digits as 8x8 images: ``X`` (n, 64) float32, ``y`` (n,) int64.

    Row ``i`` of ``X`` is one image flattened row by row; ``X[i].reshape(8, 8)``
    restores it. Each pixel counts the ink in a 4x4 block of a 32x32 bitmap,
    from 0 (blank) to 16 (full). ``y`` holds the digit, 0 to ``n_class - 1``.
    With the default ``n_class=10`` there are 1,797 images, 174 to 183 per
    digit; a smaller ``n_class`` keeps only the digits below it.

    Source: the test part of the UCI "Optical Recognition of Handwritten
    Digits" data set (E. Alpaydin and C. Kaynak, Bogazici University, 1998),
    written by 13 people, as bundled with scikit-learn
    (``sklearn.datasets.load_digits``). Licence: CC BY 4.0.
    Citation: E. Alpaydin and C. Kaynak, "Cascading classifiers",
    Kybernetika 34(4), 369-374, 1998; data set DOI 10.24432/C50P49.
    """
    n_class = _validate.positive_int(n_class, "n_class", minimum=2)
    if n_class > 10:
        raise ValueError(f"n_class: expected an int <= 10, received {n_class}")
    X, y = skdatasets.load_digits(n_class=n_class, return_X_y=True)
    return torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y, dtype=torch.int64)


_NUCLEUS = ("radius", "texture", "perimeter", "area", "smoothness", "compactness",
            "concavity", "concave points", "symmetry", "fractal dimension")
BREAST_CANCER_FEATURES = tuple(
    [f"mean {m}" for m in _NUCLEUS] + [f"{m} error" for m in _NUCLEUS]
    + [f"worst {m}" for m in _NUCLEUS])


def load_breast_cancer(positive: str = "malignant") -> tuple[torch.Tensor, torch.Tensor]:
    """Breast-mass biopsies (Wisconsin Diagnostic): ``X`` (569, 30) float32, ``y`` (569,) int64.

    Each row describes the cell nuclei in a digitised image of a fine-needle
    aspirate of one breast mass. Its 30 columns, named in
    ``BREAST_CANCER_FEATURES``, are the mean, the standard error and the
    worst (mean of the three largest) value, over the nuclei of the image,
    of ten measurements: radius, texture, perimeter, area, smoothness,
    compactness, concavity, concave points, symmetry and fractal dimension.
    The columns have very different scales (mean area is in the hundreds,
    mean smoothness near 0.1): standardise them, on training data only.

    ``y = 1`` marks the ``positive`` class, ``"malignant"`` (the default, 212
    cases) or ``"benign"`` (357 cases); ``y = 0`` marks the other. Note that
    scikit-learn's own loader codes malignant as 0.

    Source: UCI "Breast Cancer Wisconsin (Diagnostic)", W. H. Wolberg,
    W. N. Street and O. L. Mangasarian, University of Wisconsin, 1995, as
    bundled with scikit-learn (``sklearn.datasets.load_breast_cancer``).
    Licence: CC BY 4.0. Citation: W. N. Street, W. H. Wolberg and
    O. L. Mangasarian, "Nuclear feature extraction for breast tumor
    diagnosis", Proc. SPIE 1905, 861-870, 1993, doi:10.1117/12.148698;
    data set DOI 10.24432/C5DW2B.
    """
    _validate.choice(positive, "positive", ("malignant", "benign"))
    X, target = skdatasets.load_breast_cancer(return_X_y=True)  # target 0 = malignant
    y = (target == 0) if positive == "malignant" else (target == 1)
    return torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y, dtype=torch.int64)


JAPANESE_VOWELS_SPLITS = ("train", "test")


def load_japanese_vowels(split: str) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Nine speakers saying /ae/: ``utterances`` (a list) and ``speakers`` (n,) int64.

    Each utterance is a float32 tensor of shape ``(frames, 12)``: one row per
    analysis frame (25.6 ms long, every 6.4 ms, sampled at 10 kHz), holding
    the 12 LPC cepstrum coefficients of a 12th-order linear prediction
    analysis. Utterances have 7 to 29 frames, so they come as a list, not
    one tensor. ``speakers`` holds the speaker, 0 to 8 (the source numbers
    them 1 to 9).

    ``split`` is ``"train"`` (270 utterances, 30 per speaker) or ``"test"``
    (370 utterances, 24 to 88 per speaker), the split of the original study.

    Source: UCI "Japanese Vowels" (M. Kudo, J. Toyama and M. Shimbo,
    Hokkaido University, 1999), as bundled with aeon
    (``aeon.datasets.load_classification("JapaneseVowels")``), read from the
    installed package: nothing is downloaded. Licence: CC BY 4.0 (UCI); the
    original archive asks users to tell the donors about publications and
    to ask them before commercial use. Citation: M. Kudo, J. Toyama and
    M. Shimbo, "Multidimensional curve classification using passing-through
    regions", Pattern Recognition Letters 20(11-13), 1103-1111, 1999,
    doi:10.1016/S0167-8655(99)00077-X; data set DOI 10.24432/C5NS47.
    """
    _validate.choice(split, "split", JAPANESE_VOWELS_SPLITS)
    from pathlib import Path

    import aeon.datasets  # imported here: it takes seconds to import
    from aeon.datasets import load_classification

    bundled = Path(aeon.datasets.__file__).parent / "data"
    if not (bundled / "JapaneseVowels" / f"JapaneseVowels_{split.upper()}.ts").is_file():
        raise FileNotFoundError(f"JapaneseVowels: expected aeon's bundled copy in {bundled}, "
                                "received nothing; reinstall aeon (see requirements.txt)")
    # extract_path names the bundled folder, so aeon reads it and never downloads.
    X, y = load_classification("JapaneseVowels", split=split, extract_path=str(bundled))
    utterances = [torch.as_tensor(np.ascontiguousarray(x.T), dtype=torch.float32) for x in X]
    speakers = torch.as_tensor(y.astype(np.int64) - 1)
    return utterances, speakers


def _backtesting_prices(name: str):
    """Read ``test/<name>.csv``, bundled with the ``backtesting`` package, as pandas does there.

    The file is read without importing ``backtesting``: inside Jupyter its import
    switches Bokeh to notebook output, which writes JavaScript into the notebook.
    """
    import importlib.util
    from pathlib import Path

    import pandas as pd

    spec = importlib.util.find_spec("backtesting")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("backtesting: expected the package installed by "
                                  "requirements.txt, received nothing")
    path = Path(next(iter(spec.submodule_search_locations))) / "test" / f"{name}.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{name}: expected backtesting's bundled file {path}, "
                                "received nothing; reinstall backtesting (see requirements.txt)")
    # The same call as backtesting.test, so the frame equals backtesting.test.<name>.
    return pd.read_csv(path, index_col=0, parse_dates=True)


def load_goog():
    """Daily prices of Google's stock (NASDAQ: GOOG), 19 August 2004 to 1 March 2013.

    Returns a ``pandas.DataFrame`` with 2,148 rows, one per trading day, oldest
    first, indexed by date (a ``DatetimeIndex``), and five columns: ``Open``,
    ``High``, ``Low``, ``Close`` (US dollars per share, as traded; the stock
    neither split nor paid a dividend in this period) and ``Volume`` (shares
    traded). It equals ``backtesting.test.GOOG``. Turn it into returns and
    windows with :func:`make_windows`.

    Source: the file ``test/GOOG.csv`` that ships with the ``backtesting``
    package (Backtesting.py, version pinned in ``requirements.txt``). The package
    describes it only as "daily NASDAQ:GOOG (Google/Alphabet) stock price data
    from 2004 to 2013"; it names no original data vendor and gives the data no
    licence of their own, so they come under the package's licence, AGPL-3.0.
    Citation: Z. Lûster (kernc), "Backtesting.py: Backtest trading strategies
    in Python", https://github.com/kernc/backtesting.py.
    """
    return _backtesting_prices("GOOG")


def load_eurusd():
    """Hourly EUR/USD exchange-rate bars, 19 April 2017 09:00 to 7 February 2018 15:00.

    Returns a ``pandas.DataFrame`` with 5,000 rows, one per hour of trading,
    oldest first, indexed by time (a ``DatetimeIndex``; the package gives no
    time zone), and the columns ``Open``, ``High``, ``Low``, ``Close`` (US
    dollars per euro) and ``Volume`` (not defined by the package). It equals
    ``backtesting.test.EURUSD``.

    Source, licence and citation: as :func:`load_goog`; the package describes
    the file ``test/EURUSD.csv`` only as "hourly EUR/USD forex data from April
    2017 to February 2018".
    """
    return _backtesting_prices("EURUSD")


def make_windows(returns, window: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Sliding windows of past returns, each paired with the return that follows it.

    ``returns`` (m,) is a 1-D floating-point tensor or NumPy array in time order,
    where ``returns[k]`` is the change from day ``k`` to day ``k + 1`` (for
    example ``log(close[k + 1] / close[k])``). Returns ``X`` (n, window) and
    ``y`` (n,), both ``float32``, with ``n = m - window``::

        X[i] = returns[i : i + window]   # known at the close of day i + window
        y[i] = returns[i + window]       # the change from day i + window to the next

    So row ``i`` uses prices up to day ``i + window`` only, and its target is
    strictly later. Rows stay in time order, oldest first; nothing is shuffled.
    """
    returns = _validate.floating(returns, "returns", ndim=1)
    window = _validate.positive_int(window, "window")
    if window >= len(returns):
        raise ValueError(f"window: expected an int < len(returns) = {len(returns)}, so that "
                         f"at least one window has a target, received {window}")
    returns = returns.to(torch.float32)
    X = returns.unfold(0, window, 1)[:-1].clone()  # (m - window + 1, window), minus the last
    y = returns[window:].clone()  # (m - window,)
    return X, y


def load_surnames() -> list[str]:
    """The 88,799 surnames of the US Census 1990 name files, lowercase, most frequent first.

    Each name occurs once, whatever the number of people who carry it: the
    list holds the distinct names (types), not a sample of people (tokens).
    Names are 2 to 13 letters long and use only ``a`` to ``z``: the census
    file has no spaces, hyphens or apostrophes. ``load_surnames()[0]`` is
    ``"smith"``, the most common, with 1.006 % of the records.

    The Census Bureau drew the file from about 7.2 million 1990 census
    records, those of the blocks around its Post-Enumeration Survey, not
    from the whole census; the 88,799 names cover about 90 % of those
    records, and rarer names are left out.

    Source: the file ``dist.all.last`` of the US Census Bureau's
    "Frequently Occurring Names in the U.S.--1990" (placed online in 1995),
    bundled with the ``names`` package (T. Hunner, version 0.3.0) and read
    from the installed package: nothing is downloaded. Licence: the census
    data are a work of the US Government, in the public domain (the
    package's README says so); the ``names`` package itself is MIT-licensed.
    Citation: US Census Bureau, "Documentation and Methodology for
    Frequently Occurring Names in the U.S.--1990", October 1995.
    """
    from pathlib import Path

    import names  # imported here: only Chapter 12 needs it

    path = Path(names.__file__).parent / "dist.all.last"
    if not path.is_file():
        raise FileNotFoundError(f"surnames: expected the census file at {path}, received "
                                "nothing; reinstall names (see requirements.txt)")
    with open(path, encoding="ascii") as lines:
        return [line.split()[0].lower() for line in lines if line.strip()]


WORD_LANGUAGES_DEFAULT = ("en", "fr", "de", "es", "it", "nl", "pt")


def load_words(languages=WORD_LANGUAGES_DEFAULT, n_per_language: int = 3000
               ) -> dict[str, list[str]]:
    """The ``n_per_language`` most frequent words of each language, made of letters only.

    Returns ``{language: words}`` in the order of ``languages`` (ISO 639 codes
    such as ``"en"``, ``"fr"``; ``wordfreq.available_languages()`` lists them
    all). Each list is in order of decreasing frequency and keeps only words
    for which ``str.isalpha()`` is true, so numbers, punctuation, emoji and
    words with apostrophes are dropped. Words are lowercase (wordfreq
    case-folds them, so German "Straße" appears as "strasse"). The same word
    can appear in several languages ("de" is French, Spanish, Dutch and
    Portuguese); the loader leaves such words in every list they belong to.

    Source: the word-frequency lists of the ``wordfreq`` package (R. Speer,
    version 3.1.1), read from the installed package with
    ``wordfreq.top_n_list``: nothing is downloaded. They merge frequencies
    from Wikipedia, subtitles (OpenSubtitles, SUBTLEX), news, books (Google
    Books Ngrams), web text and Twitter. Licence: the code is Apache-2.0;
    the data files are CC BY-SA 4.0, with attribution to the sources above
    (see the package's README). Citation: R. Speer, "rspeer/wordfreq: v3.0"
    (v3.0.2), Zenodo, 2022, doi:10.5281/zenodo.7199437.
    """
    import wordfreq  # imported here: only Chapter 12 needs it

    if isinstance(languages, str) or not isinstance(languages, (list, tuple)):
        raise TypeError("languages: expected a list or tuple of language codes, received "
                        f"{type(languages).__name__}")
    if not languages:
        raise ValueError("languages: expected at least one language code, received none")
    if len(set(languages)) != len(languages):
        raise ValueError(f"languages: expected distinct codes, received {list(languages)}")
    available = sorted(wordfreq.available_languages())
    for language in languages:
        _validate.choice(language, "languages", available)
    n_per_language = _validate.positive_int(n_per_language, "n_per_language")
    words = {}
    for language in languages:
        request = 2 * n_per_language
        while True:  # ask for more words until enough of them are letters only
            listed = wordfreq.top_n_list(language, request)
            kept = [w for w in listed if w.isalpha()]
            if len(kept) >= n_per_language or len(listed) < request:
                break
            request *= 2
        if len(kept) < n_per_language:
            raise ValueError(f"n_per_language: expected at most {len(kept)} for {language!r}, "
                             f"received {n_per_language}")
        words[language] = kept[:n_per_language]
    return words


# --- Real data sets (Part II). Add each loader above this line. ---
