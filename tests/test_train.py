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
    return (X_tr, y_tr.long()), (X_va, y_va.long())


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
        order = torch.randperm(len(X), generator=torch.Generator().manual_seed(5 + epoch))
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
    torch.manual_seed(123)  # the global random state is restored from the checkpoint
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
