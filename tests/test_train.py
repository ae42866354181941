import pytest
import torch
from sklearn.metrics import accuracy_score

from mlpbook import data, train


def make_model(seed=0, dropout=0.0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Dropout(dropout),
                               torch.nn.Linear(16, 2))


@pytest.fixture(scope="module")
def moons():
    X, y = data.moons(240, noise=0.2, seed=0)
    X_tr, y_tr, X_va, y_va, _, _ = data.split(X, y, val=0.25, test=0.1, seed=0)
    return (X_tr, y_tr), (X_va, y_va)


def test_fit_matches_a_hand_written_loop(moons):
    (X, y), _ = moons
    loss_fn = torch.nn.CrossEntropyLoss()
    model = make_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    history = train.fit(model, loss_fn, opt, (X, y), epochs=3, batch_size=16, seed=5)

    ref = make_model()
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    losses = []
    for epoch in range(3):
        generator = torch.Generator().manual_seed(train.epoch_seed(5, epoch))
        order = torch.randperm(len(X), generator=generator)
        total = 0.0
        for idx in order.split(16):
            ref_opt.zero_grad()
            loss = loss_fn(ref(X[idx]), y[idx])
            loss.backward()
            ref_opt.step()
            total += loss.item() * len(idx)
        losses.append(total / len(X))
    assert history["train_loss"] == pytest.approx(losses, rel=1e-6)
    for p, q in zip(model.parameters(), ref.parameters()):
        assert torch.equal(p, q)


def test_fit_learns_moons_and_records_validation_metrics(moons):
    train_data, val_data = moons
    model = make_model()
    history = train.fit(model, torch.nn.CrossEntropyLoss(),
                        torch.optim.Adam(model.parameters(), lr=0.02), train_data, val_data,
                        epochs=30, metrics={"acc": train.accuracy})
    assert set(history) == {"train_loss", "train_acc", "val_loss", "val_acc"}
    assert all(len(v) == 30 for v in history.values())
    assert history["train_loss"][-1] < 0.5 * history["train_loss"][0]
    assert history["val_acc"][-1] > 0.9


def test_fit_resumed_run_matches_uninterrupted_run(moons, tmp_path):
    train_data, val_data = moons

    def run(epochs, checkpoint=None, resume=False, model=None, opt=None, sched=None):
        model = model or make_model(dropout=0.3)
        opt = opt or torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        sched = sched or torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        history = train.fit(model, torch.nn.CrossEntropyLoss(), opt, train_data, val_data,
                            epochs=epochs, checkpoint=checkpoint, resume=resume, scheduler=sched)
        return model, history

    torch.manual_seed(0)
    full, full_history = run(6)
    path = tmp_path / "ckpt.pt"
    torch.manual_seed(0)
    run(3, checkpoint=path)  # interrupted after 3 epochs
    torch.manual_seed(123)  # the global random state does not matter
    fresh = make_model(seed=99, dropout=0.3)  # weights are restored from the checkpoint
    opt = torch.optim.SGD(fresh.parameters(), lr=0.05, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    resumed, resumed_history = run(6, checkpoint=path, resume=True, model=fresh, opt=opt,
                                   sched=sched)
    assert resumed_history == full_history
    for p, q in zip(full.parameters(), resumed.parameters()):
        assert torch.equal(p, q)


def test_early_stopping_restores_the_best_weights(moons):
    train_data, val_data = moons
    model = make_model()
    loss_fn = torch.nn.CrossEntropyLoss()
    history = train.fit(model, loss_fn, torch.optim.SGD(model.parameters(), lr=2.0),
                        train_data, val_data, epochs=200, patience=3)
    best = min(history["val_loss"])
    assert len(history["val_loss"]) < 200
    assert history["val_loss"].index(best) == len(history["val_loss"]) - 4
    assert train.evaluate(model, loss_fn, val_data)["loss"] == pytest.approx(best, rel=1e-6)


def test_fit_is_silent_when_static(moons, capsys):
    train_data, _ = moons
    model = make_model()
    train.fit(model, torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1),
              train_data, epochs=2)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


@pytest.mark.parametrize("logits, y", [
    (torch.tensor([[2.0, 1.0], [0.1, 0.3], [0.0, -1.0]]), torch.tensor([0, 1, 1])),
    (torch.tensor([0.5, -0.2, 3.0, -4.0]), torch.tensor([1, 1, 1, 0])),
    (torch.tensor([[0.5], [-0.2]]), torch.tensor([0.0, 0.0])),
])
def test_accuracy_matches_scikit_learn(logits, y):
    predicted = logits.argmax(1) if logits.ndim == 2 and logits.shape[1] > 1 else (
        logits.reshape(-1) > 0).long()
    assert train.accuracy(logits, y) == pytest.approx(accuracy_score(y.long(), predicted))


def test_predict_returns_eval_mode_outputs_and_keeps_training_mode():
    model = make_model(dropout=0.5)
    model.train()
    X = torch.randn(10, 2)
    out = train.predict(model, X, batch_size=3)
    assert model.training
    model.eval()
    assert torch.allclose(out, model(X).detach(), atol=1e-6)
    assert train.predict(model, X).shape == (10, 2)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"train": (torch.zeros(4, 2), torch.zeros(3))}, ValueError, "same number of rows"),
    ({"train": torch.zeros(4, 2)}, TypeError, "pair"),
    ({"train": (torch.zeros(4, 2, dtype=torch.long), torch.zeros(4))}, TypeError, "floating"),
    ({"train": (torch.full((4, 2), float("nan")), torch.zeros(4))}, ValueError, "NaN"),
    ({"epochs": 0}, ValueError, "epochs"),
    ({"batch_size": 2.5}, TypeError, "batch_size"),
    ({"patience": 2}, ValueError, "val="),
    ({"resume": True}, ValueError, "checkpoint"),
])
def test_fit_rejects_bad_input_clearly(kwargs, error, message):
    model = make_model()
    args = {"train": (torch.zeros(4, 2), torch.zeros(4, dtype=torch.long))} | kwargs
    with pytest.raises(error, match=message):
        train.fit(model, torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1),
                  **args)


def test_fit_stops_with_a_clear_error_when_the_loss_diverges():
    model = torch.nn.Linear(1, 1)
    X = torch.linspace(-100, 100, 32)[:, None]
    with pytest.raises(FloatingPointError, match="learning rate"):
        train.fit(model, torch.nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=10.0),
                  (X, 3 * X), epochs=50)


def test_accuracy_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="same number of rows"):
        train.accuracy(torch.zeros(3, 2), torch.zeros(2))


def test_epoch_seeds_differ_across_seeds_and_epochs():
    seeds = {train.epoch_seed(s, e) for s in range(20) for e in range(20)}
    assert len(seeds) == 400  # seed + epoch would give only 39 distinct values
    assert train.epoch_seed(3, 4) == train.epoch_seed(3, 4)


def test_runs_with_different_seeds_share_no_epoch_order(moons):
    (X, y), _ = moons
    orders = {}

    def recording_loss(logits, target):
        orders.setdefault(current, []).append(target.clone())
        return torch.nn.functional.cross_entropy(logits, target)

    for current in (0, 1):
        model = make_model()
        train.fit(model, recording_loss, torch.optim.SGD(model.parameters(), lr=0.1), (X, y),
                  epochs=2, batch_size=len(X), seed=current)
    # seed 1's first epoch is not seed 0's second epoch (it was with seed + epoch)
    assert not torch.equal(orders[1][0], orders[0][1])


def test_dropout_runs_do_not_depend_on_the_global_random_state(moons):
    train_data, val_data = moons
    weights = []
    for global_seed in (1, 2):
        model = make_model(dropout=0.5)
        torch.manual_seed(global_seed)
        train.fit(model, torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1),
                  train_data, val_data, epochs=3, seed=7)
        weights.append([p.detach().clone() for p in model.parameters()])
    assert all(torch.equal(p, q) for p, q in zip(*weights))


def test_fit_leaves_the_global_random_state_as_it_was(moons):
    train_data, _ = moons
    model = make_model(dropout=0.5)
    torch.manual_seed(11)
    before = torch.get_rng_state()
    train.fit(model, torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1),
              train_data, epochs=2)
    assert torch.equal(torch.get_rng_state(), before)


def test_reduce_on_plateau_is_stepped_with_the_validation_loss(moons):
    train_data, val_data = moons
    model = make_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    seen = []

    class Recording(torch.optim.lr_scheduler.ReduceLROnPlateau):
        def step(self, metrics):
            seen.append(metrics)
            super().step(metrics)

    history = train.fit(model, torch.nn.CrossEntropyLoss(), opt, train_data, val_data, epochs=4,
                        scheduler=Recording(opt, patience=0))
    assert seen == history["val_loss"]


def test_evaluate_computes_the_loss_on_the_models_device(moons):
    _, (X, y) = moons
    model = make_model()
    device = next(model.parameters()).device
    devices = []

    def recording_loss(logits, target):
        devices.append((logits.device, target.device))
        return torch.nn.functional.cross_entropy(logits, target)

    result = train.evaluate(model, recording_loss, (X, y), batch_size=16)
    assert devices and all(d == (device, device) for d in devices)
    assert result["loss"] == pytest.approx(
        torch.nn.functional.cross_entropy(train.predict(model, X), y).item(), rel=1e-6)


def test_fit_refuses_a_model_without_parameters_before_training():
    with pytest.raises(ValueError, match="model: expected a model with parameters"):
        train.fit(torch.nn.ReLU(), torch.nn.MSELoss(), None, (torch.zeros(4, 2), torch.zeros(4)))


def test_fit_refuses_a_checkpoint_in_a_missing_folder_before_training(moons, tmp_path):
    train_data, _ = moons
    model = make_model()
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(ValueError, match="checkpoint: expected a path in an existing folder"):
        train.fit(model, torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=1.0),
                  train_data, checkpoint=tmp_path / "missing" / "ckpt.pt")
    assert all(torch.equal(p, q) for p, q in zip(before, model.parameters()))


def test_fit_names_val_when_its_width_does_not_fit_the_model(moons):
    train_data, _ = moons
    model = make_model()
    with pytest.raises(ValueError, match=r"^val: the model cannot take these inputs of shape"):
        train.fit(model, torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1),
                  train_data, (torch.zeros(5, 3), torch.zeros(5, dtype=torch.long)))


def test_an_early_stopped_bar_ends_complete_at_its_epoch_and_shows_the_loss(moons, monkeypatch):
    bars = []

    class RecordingBar:
        def __init__(self, **kwargs):
            self.total, self.n = kwargs["total"], kwargs["initial"]
            self.postfix, self.closed = {}, False
            bars.append(self)

        def set_postfix(self, values, refresh=True):
            self.postfix = values

        def update(self, k):
            self.n += k

        def refresh(self):
            pass

        def close(self):
            self.closed = True

    monkeypatch.setattr(train, "tqdm", RecordingBar)
    train_data, val_data = moons
    model = make_model()
    history = train.fit(model, torch.nn.CrossEntropyLoss(),
                        torch.optim.SGD(model.parameters(), lr=2.0), train_data, val_data,
                        epochs=200, patience=3, progress=True)
    (bar,) = bars
    assert bar.closed and bar.n == bar.total == len(history["train_loss"]) < 200
    assert set(bar.postfix) == {"train_loss", "val_loss"}


def test_a_run_resumed_after_its_early_stop_trains_no_further(moons, tmp_path):
    train_data, val_data = moons

    def run(checkpoint, resume=False):
        model = make_model(dropout=0.3)
        opt = torch.optim.SGD(model.parameters(), lr=2.0, momentum=0.5)
        history = train.fit(model, torch.nn.CrossEntropyLoss(), opt, train_data, val_data,
                            epochs=200, patience=3, checkpoint=checkpoint, resume=resume)
        return model, history

    path = tmp_path / "ckpt.pt"
    full, full_history = run(path)
    assert len(full_history["val_loss"]) < 200
    again, again_history = run(path, resume=True)
    assert again_history == full_history
    assert all(torch.equal(p, q) for p, q in zip(full.parameters(), again.parameters()))
    assert not (tmp_path / "ckpt.pt.tmp").exists(), "checkpoints are written atomically"


def test_a_last_batch_of_one_with_batch_norm_is_refused_before_training():
    model = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.BatchNorm1d(4),
                                torch.nn.Linear(4, 2))
    X, y = torch.randn(33, 2), torch.zeros(33, dtype=torch.long)
    with pytest.raises(ValueError, match="last batch of one sample"):
        train.fit(model, torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1),
                  (X, y), batch_size=16)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_fit_resumed_on_cuda_matches_uninterrupted_run_with_dropout(moons, tmp_path):
    train_data, val_data = moons

    def run(epochs, checkpoint=None, resume=False):
        model = make_model(dropout=0.3).cuda()
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        history = train.fit(model, torch.nn.CrossEntropyLoss(), opt, train_data, val_data,
                            epochs=epochs, checkpoint=checkpoint, resume=resume)
        return model, history

    full, full_history = run(6)
    run(3, checkpoint=tmp_path / "ckpt.pt")
    resumed, resumed_history = run(6, checkpoint=tmp_path / "ckpt.pt", resume=True)
    assert resumed_history == full_history
    assert all(torch.equal(p, q) for p, q in zip(full.parameters(), resumed.parameters()))
