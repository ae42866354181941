"""Chapter 10 data: the bundled market prices, and windows of returns with no look-ahead."""

import math

import pandas as pd
import pytest
import torch

from mlpbook import data


def log_returns(close: torch.Tensor) -> torch.Tensor:
    """returns[k] = log(close[k + 1] / close[k]), the convention make_windows documents."""
    return torch.diff(torch.log(close))


@pytest.mark.parametrize("load, rows, first, last", [
    (data.load_goog, 2148, "2004-08-19", "2013-03-01"),
    (data.load_eurusd, 5000, "2017-04-19 09:00", "2018-02-07 15:00"),
])
def test_market_loaders_return_clean_ohlcv_frames_in_time_order(load, rows, first, last):
    frame = load()
    assert list(frame.columns) == ["Open", "High", "Low", "Close", "Volume"]
    assert len(frame) == rows and isinstance(frame.index, pd.DatetimeIndex)
    assert frame.index[0] == pd.Timestamp(first) and frame.index[-1] == pd.Timestamp(last)
    assert frame.index.is_monotonic_increasing and frame.index.is_unique
    assert not frame.isna().any().any()
    assert (frame[["Open", "High", "Low", "Close"]] > 0).all().all()
    assert (frame.High >= frame[["Open", "Close"]].max(axis=1)).all()
    assert (frame.Low <= frame[["Open", "Close"]].min(axis=1)).all()


def test_market_loaders_match_the_package_frames_and_return_fresh_copies():
    import backtesting.test

    pd.testing.assert_frame_equal(data.load_goog(), backtesting.test.GOOG)
    pd.testing.assert_frame_equal(data.load_eurusd(), backtesting.test.EURUSD)
    frame = data.load_goog()
    frame.loc[:, "Close"] = 0.0
    assert (data.load_goog().Close > 0).all()


def test_make_windows_pairs_each_window_with_the_next_return():
    returns = torch.randn(50, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    X, y = data.make_windows(returns, 7)
    assert X.shape == (43, 7) and y.shape == (43,)
    assert X.dtype == y.dtype == torch.float32
    for i in range(43):  # the definition, written as a loop
        assert torch.equal(X[i], returns[i:i + 7].float())
        assert y[i] == returns[i + 7].float()
    X_np, y_np = data.make_windows(returns.numpy(), 7)
    assert torch.equal(X, X_np) and torch.equal(y, y_np)


def test_make_windows_copies_its_input():
    returns = torch.arange(10.0)
    X, y = data.make_windows(returns, 3)
    returns[:] = -1.0
    assert X[0].tolist() == [0.0, 1.0, 2.0] and y[0].item() == 3.0


def test_make_windows_smallest_case_gives_one_row():
    X, y = data.make_windows(torch.tensor([0.1, -0.2, 0.3]), 2)
    assert X.shape == (1, 2) and X[0].tolist() == pytest.approx([0.1, -0.2])
    assert y.tolist() == pytest.approx([0.3])


def goog_close() -> torch.Tensor:
    return torch.tensor(data.load_goog().Close.to_numpy(), dtype=torch.float64)  # a copy


def windows_from_prices(make, close: torch.Tensor, window: int):
    return make(log_returns(close), window)


def assert_no_lookahead(make, close: torch.Tensor, window: int, t: int) -> None:
    """Perturb every price after day t; nothing known at day t may change.

    With returns[k] the change from day k to k + 1, row i's window ends with the
    return into day i + window (the day it is known), and its target is the
    return into day i + window + 1.
    """
    X, y = windows_from_prices(make, close, window)
    future = torch.Generator().manual_seed(t)
    perturbed = close.clone()
    perturbed[t + 1:] *= torch.exp(torch.randn(len(close) - t - 1, generator=future,
                                               dtype=close.dtype))
    X_p, y_p = windows_from_prices(make, perturbed, window)
    known = [i for i in range(len(y)) if i + window <= t]  # feature rows known at day t
    assert known, "choose t >= window so that some row is known at day t"
    assert torch.equal(X[known], X_p[known]), "a window changed when only later prices did"
    resolved = [i for i in known if i + window + 1 <= t]  # targets also known at day t
    assert torch.equal(y[resolved], y_p[resolved]), "a past target changed"
    # The target of the row decided at day t is strictly after its window: it
    # moves with the price of day t + 1, which the window never sees.
    i_t = t - window
    assert y[i_t] != y_p[i_t], "the target of the row decided at day t must use day t + 1"


@pytest.mark.parametrize("window", [1, 5, 20])
@pytest.mark.parametrize("t", [20, 21, 100, 2000, 2146])
def test_make_windows_uses_no_information_after_day_t(window, t):
    close = goog_close()
    assert_no_lookahead(data.make_windows, close, window, t)


def test_make_windows_target_is_the_day_after_its_window_on_real_prices():
    close = goog_close()
    window = 10
    X, y = windows_from_prices(data.make_windows, close, window)
    for i in (0, 1, 500, len(y) - 1):
        d = i + window  # the day the window is known
        assert X[i, -1].item() == pytest.approx(math.log(close[d] / close[d - 1]), abs=1e-6)
        assert y[i].item() == pytest.approx(math.log(close[d + 1] / close[d]), abs=1e-6)
    assert len(y) == len(close) - 1 - window  # every price from day window + 1 on is a target


@pytest.mark.parametrize("leak", ["window includes its target", "centred smoothing"])
def test_the_lookahead_check_catches_leaky_windows(leak):
    """The test above is not vacuous: two classic look-ahead bugs fail it."""
    def includes_target(returns, window):
        X, y = data.make_windows(returns, window)
        return torch.cat([X[:, 1:], y[:, None]], dim=1), y  # shifted one day too far

    def centred(returns, window):
        X, y = data.make_windows(returns, window)
        smooth = torch.nn.functional.avg_pool1d(returns.float()[None, None], 3, 1, 1)[0, 0]
        return torch.cat([X, smooth[window - 1:-1, None]], dim=1), y  # uses day t + 1

    make = {"window includes its target": includes_target, "centred smoothing": centred}[leak]
    close = goog_close()
    with pytest.raises(AssertionError, match="window changed"):
        assert_no_lookahead(make, close, 5, 100)


@pytest.mark.parametrize("call, error, message", [
    (lambda: data.make_windows(torch.tensor([0.1, float("nan"), 0.2, 0.3]), 2), ValueError,
     "NaN"),
    (lambda: data.make_windows(torch.zeros(10, 2), 3), ValueError, "1-D"),
    (lambda: data.make_windows(torch.zeros(5), 5), ValueError, "window: expected an int < "),
    (lambda: data.make_windows(torch.zeros(5), 9), ValueError, "len\\(returns\\) = 5"),
    (lambda: data.make_windows(torch.zeros(5), 0), ValueError, "window: expected an int >= 1"),
    (lambda: data.make_windows(torch.zeros(5), 2.0), TypeError, "window: expected an int"),
    (lambda: data.make_windows(torch.zeros(5), True), TypeError, "window: expected an int"),
    (lambda: data.make_windows([0.1, 0.2, 0.3], 1), TypeError, "torch.Tensor"),
    (lambda: data.make_windows(torch.arange(5), 2), TypeError, "floating-point"),
])
def test_make_windows_rejects_bad_input_clearly(call, error, message):
    with pytest.raises(error, match=message):
        call()
