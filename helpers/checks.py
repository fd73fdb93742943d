"""Self-checks for the exercises: each tests a student's object and prints a clear verdict with a hint.

Every check prints one line starting with ``PASSED`` or ``NOT YET`` and returns a :class:`Verdict`
(true or false). It does
not stop the notebook on a wrong answer -- except for an unfinished exercise: if the student's code
still raises ``NotImplementedError`` the check re-raises it, so "Run all" stops at the first exercise
that is left to do.

Notebook-specific checks (``check_points_dataset``, ``check_mlp``...) are thin wrappers around the
generic ones (``check_output_shape``, ``check_parameter_count``...), which later notebooks reuse.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence

import torch
from torch import nn


class Verdict:
    """What a check returns: true when it passed, false when not.

    It shows nothing when it is a cell's last value: the check has already printed its line. (A plain
    ``True`` would add an ``Out[n]: True``; ending the line with ``;`` hides that in Jupyter but not
    under nbval, which runs cells without storing history.)
    """

    def __init__(self, passed: bool):
        self.passed = bool(passed)

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return f"Verdict(passed={self.passed})"

    def _ipython_display_(self) -> None:
        pass


def report(passed: bool, what: str, hint: str = "") -> Verdict:
    """Print the verdict of one check: ``PASSED: what`` or ``NOT YET: what -- Hint: hint``."""
    print(f"PASSED: {what}" if passed else f"NOT YET: {what}" + (f"\n  Hint: {hint}" if hint else ""))
    return Verdict(passed)


def _run(what: str, hint: str, test: Callable[[], tuple[bool, str]]) -> Verdict:
    """Run ``test`` -> (passed, detail); turn exceptions from the student's code into a verdict."""
    try:
        with torch.random.fork_rng(devices=[]):  # a check must not change the notebook's random numbers
            passed, detail = test()
    except NotImplementedError:
        report(False, what, "this exercise is not done yet: replace the `raise NotImplementedError` line.")
        raise
    except Exception as error:  # the student's code crashed: show the error, not a traceback
        return report(False, what, f"{type(error).__name__}: {error}. {hint}")
    return report(passed, what + (f" ({detail})" if detail else ""), hint if not passed else "")


# --- generic checks ------------------------------------------------------------------------------------


def check_output_shape(model: nn.Module, input_shape: Sequence[int], expected: Sequence[int], name="the model",
                       hint="") -> Verdict:
    """``model(torch.zeros(input_shape))`` has shape ``expected``."""
    def test():
        model.eval()
        with torch.no_grad():
            shape = tuple(model(torch.zeros(*input_shape)).shape)
        return shape == tuple(expected), "" if shape == tuple(expected) else f"got {shape}"
    return _run(f"{name} maps {tuple(input_shape)} to {tuple(expected)}", hint or
                "print the shape after each layer to find where it goes wrong", test)


def check_parameter_count(model: nn.Module, expected: int, formula: str = "", name="the model") -> Verdict:
    """The number of trainable parameters of ``model`` equals ``expected`` (e.g. from the layer formula)."""
    def test():
        count = sum(p.numel() for p in model.parameters() if p.requires_grad)
        return count == expected, "" if count == expected else f"it has {count}"
    return _run(f"{name} has {expected} parameters" + (f" = {formula}" if formula else ""),
                "dense layer: in·out weights + out biases; conv layer: k²·C_in·C_out + C_out", test)


def check_function_on_examples(function: Callable, examples: Sequence[tuple], name: str, hint: str = "",
                               atol: float = 1e-5) -> Verdict:
    """``function(input)`` is close to ``expected`` for every ``(input, expected)`` pair."""
    def test():
        for inputs, expected in examples:
            result = function(inputs)
            if tuple(result.shape) != tuple(expected.shape) or not torch.allclose(result.float(), expected.float(),
                                                                                 atol=atol):
                return False, f"for input {inputs.tolist()} got {result.tolist()}, expected {expected.tolist()}"
        return True, f"on {sum(len(inputs) for inputs, _ in examples)} known inputs"
    return _run(f"{name} gives the right values", hint, test)


def check_nonlinear(model: nn.Module, in_features: int, name="the model") -> Verdict:
    """``model`` is not an affine map: f(a) + f(b) != f(a + b) + f(0) for random a, b."""
    def test():
        generator = torch.Generator().manual_seed(0)
        a, b = torch.randn(64, in_features, generator=generator), torch.randn(64, in_features, generator=generator)
        model.eval()
        with torch.no_grad():
            gap = (model(a) + model(b) - model(a + b) - model(torch.zeros_like(a))).abs().max().item()
        return gap > 1e-4, ""
    return _run(f"{name} is non-linear", "without an activation between them, stacked linear layers collapse "
                "into one linear layer: add nn.ReLU() between the nn.Linear layers", test)


def check_loss_decreases(model: nn.Module, loss_fn, inputs: torch.Tensor, targets: torch.Tensor, steps: int = 30,
                         lr: float = 0.01, factor: float = 0.5, name="the model") -> Verdict:
    """A few Adam steps on one small, easy batch bring the loss below ``factor`` × its first value.

    A model that can fit anything overfits one small batch quickly; one that cannot (its output
    squashed by an extra sigmoid/softmax, gradients that do not reach a layer) stays far above.
    The lowest of the last 5 losses counts, not the very last one: with dropout on, a network that has
    learned the batch still has a rare step whose loss jumps back up.

    Works on a copy: the student's model is left untouched.
    """
    def test():
        trial = copy.deepcopy(model)
        torch.manual_seed(0)
        optimizer = torch.optim.Adam(trial.parameters(), lr=lr)
        trial.train()
        losses = []
        for _ in range(steps):
            optimizer.zero_grad()
            loss = loss_fn(trial(inputs), targets)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        final = min(losses[-5:])
        return final < factor * losses[0], f"loss {losses[0]:.3f} -> {final:.3f} in {steps} steps"
    return _run(f"{name} learns on a small batch", "check that the output feeds the loss directly (no extra "
                "softmax/sigmoid) and that gradients reach every layer", test)


# --- notebook 01 ----------------------------------------------------------------------------------------


def _two_blobs(n=64):
    generator = torch.Generator().manual_seed(0)
    labels = (torch.arange(n) % 2).float()[:, None]
    points = torch.randn(n, 2, generator=generator) * 0.5 + (labels * 2 - 1) * 1.5
    return points, labels


def check_points_dataset(dataset, expected_len: int) -> Verdict:
    """Notebook 01: the Dataset has ``expected_len`` items, each a (2,) float point and a (1,) float 0/1 label."""
    def test():
        if len(dataset) != expected_len:
            return False, f"len(dataset) is {len(dataset)}"
        for i in (0, expected_len - 1):
            point, label = dataset[i]
            if tuple(point.shape) != (2,) or tuple(label.shape) != (1,):
                return False, f"item {i}: point {tuple(point.shape)}, label {tuple(label.shape)}"
            if point.dtype != torch.float32 or label.dtype != torch.float32 or label.item() not in (0.0, 1.0):
                return False, f"item {i}: dtypes {point.dtype}, {label.dtype}, label {label.item()}"
        return True, f"{expected_len} items of shapes (2,) and (1,)"
    return _run("the Dataset returns (point, label) pairs", "__len__ returns the number of points; "
                "__getitem__(i) returns self.samples[i] and the label as a tensor of shape (1,) (slice i:i+1)", test)


def check_train_one_epoch(train_one_epoch: Callable) -> Verdict:
    """Notebook 01: ``train_one_epoch(model, loader, optimizer, loss_fn)`` updates the weights and lowers the loss."""
    def test():
        points, labels = _two_blobs()
        loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(points, labels), batch_size=16)
        torch.manual_seed(0)
        model = nn.Linear(2, 1)
        before = [p.detach().clone() for p in model.parameters()]
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        losses = [train_one_epoch(model, loader, optimizer, nn.BCEWithLogitsLoss()) for _ in range(5)]
        if all(torch.equal(b, p) for b, p in zip(before, model.parameters())):
            return False, "the weights did not change"
        if not all(isinstance(loss, float) and math.isfinite(loss) for loss in losses):
            return False, f"it returned {losses[0]!r}, not a float loss"
        return losses[-1] < losses[0], f"mean loss {losses[0]:.3f} -> {losses[-1]:.3f} over 5 epochs"
    return _run("train_one_epoch trains", "per batch: optimizer.zero_grad(), loss = loss_fn(model(points), labels), "
                "loss.backward(), optimizer.step()", test)


def check_mlp(model: nn.Module) -> Verdict:
    """Notebook 01: the 2-16-16-1 ReLU MLP."""
    points, labels = _two_blobs()
    results = [
        check_output_shape(model, (5, 2), (5, 1), name="the MLP"),
        check_parameter_count(model, (2 * 16 + 16) + (16 * 16 + 16) + (16 * 1 + 1),
                              "(2·16 + 16) + (16·16 + 16) + (16·1 + 1)", name="the MLP"),
        check_nonlinear(model, 2, name="the MLP"),
        check_loss_decreases(model, nn.BCEWithLogitsLoss(), points, labels, name="the MLP"),
    ]
    return Verdict(all(results))


def check_polar(to_polar: Callable) -> Verdict:
    """Notebook 01: (x, y) -> (r, φ) on points whose answer is known, in all four quadrants."""
    points = torch.tensor([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0], [0.0, -1.0], [-1.0, -1.0]])
    expected = torch.tensor([[1.0, 0.0], [2.0, math.pi / 2], [3.0, math.pi], [1.0, -math.pi / 2],
                             [math.sqrt(2), -3 * math.pi / 4]])
    return check_function_on_examples(to_polar, [(points, expected)], "to_polar",
                                      "r = sqrt(x² + y²) and φ = torch.atan2(y, x): atan(y / x) loses the quadrant")


# --- notebook 04 ----------------------------------------------------------------------------------------


def _imbalanced_labels() -> torch.Tensor:
    """1,000 labels of 4 classes with very different sizes (500/300/150/50), shuffled: stratification shows."""
    counts = (500, 300, 150, 50)
    labels = torch.cat([torch.full((n,), c) for c, n in enumerate(counts)])
    return labels[torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))]


def check_validation_split(split: Callable) -> Verdict:
    """Notebook 04: ``split(labels, fraction, seed) -> (train_indices, val_indices)`` is disjoint and stratified.

    Leak-free: no index in both parts, together exactly 0..N-1 (positions in the *training* file).
    Stratified: every class gives ``fraction`` of its images to validation (within one image).
    """
    def test():
        labels = _imbalanced_labels()
        train, val = (torch.as_tensor(part).reshape(-1).long() for part in split(labels, 0.1, 0))
        shared = len(set(train.tolist()) & set(val.tolist()))
        if shared:
            return False, f"{shared} indices are in both parts: those validation images are trained on"
        if sorted(train.tolist() + val.tolist()) != list(range(len(labels))):
            return False, "together the two parts must be every index 0..N-1 exactly once"
        for c in range(4):
            wanted, got = 0.1 * int((labels == c).sum()), int((labels[val] == c).sum())
            if abs(got - wanted) > 1:
                return False, f"class {c} has {got} validation images, 10% of it is {wanted:g}"
        again = [torch.as_tensor(p).reshape(-1).long() for p in split(labels, 0.1, 0)]
        if not torch.equal(torch.sort(again[1]).values, torch.sort(val).values):
            return False, "the same seed must give the same split"
        return True, f"{len(train)} train / {len(val)} validation, disjoint, 10% of each class"
    return _run("the split is leak-free and stratified", "for each class: shuffle its indices "
                "(torch.randperm with a seeded generator), send round(fraction·count) of them to validation "
                "and the rest to training", test)


def check_channel_stats(channel_stats: Callable) -> Verdict:
    """Notebook 04: ``channel_stats(images uint8 (N, 3, H, W)) -> (mean (3,), std (3,))`` of pixels/255."""
    def test():
        generator = torch.Generator().manual_seed(0)
        images = torch.randint(0, 256, (20, 3, 8, 8), generator=generator, dtype=torch.uint8)
        images[:, 1] //= 4  # give every channel different statistics
        images[:, 2] = 255 - images[:, 2] // 2
        mean, std = channel_stats(images)
        scaled = images.double().transpose(0, 1).reshape(3, -1) / 255
        for name, got, expected in (("mean", mean, scaled.mean(1)), ("std", std, scaled.std(1))):
            got = torch.as_tensor(got).double()
            if tuple(got.shape) != (3,):
                return False, f"the {name} has shape {tuple(got.shape)}; one number per colour channel is (3,)"
            if not torch.allclose(got, expected, atol=2e-3):
                return False, f"{name} {[round(v, 3) for v in got.tolist()]}, expected " \
                              f"{[round(v, 3) for v in expected.tolist()]}"
        return True, "one mean and one std per colour channel"
    return _run("channel_stats gives per-channel statistics", "scale to [0, 1] first (÷ 255, as a float), then "
                "reduce over every dimension except the channel: dim=(0, 2, 3)", test)


def check_random_shift(random_shift: Callable) -> Verdict:
    """Notebook 04: ``random_shift(images (N, C, H, W), max_shift)`` moves each image by its own offset.

    Every output must be its input moved by at most ``max_shift`` pixels in each direction with zeros
    shifted in (not wrapped around, not mirrored); images get different offsets; 0 changes nothing.
    """
    def shift_of(image, out, s):
        padded = nn.functional.pad(image, (s, s, s, s))
        h, w = image.shape[-2:]
        return next(((dy - s, dx - s) for dy in range(2 * s + 1) for dx in range(2 * s + 1)
                     if torch.equal(padded[:, dy:dy + h, dx:dx + w], out)), None)

    def test():
        images = torch.rand(32, 3, 12, 12, generator=torch.Generator().manual_seed(0)) + 0.5  # no zeros inside
        out = random_shift(images, 2)
        if not isinstance(out, torch.Tensor) or out.shape != images.shape:
            return False, f"got {type(out).__name__} {tuple(getattr(out, 'shape', ()))}, expected {tuple(images.shape)}"
        offsets = [shift_of(a, b, 2) for a, b in zip(images, out)]
        if None in offsets:
            i = offsets.index(None)
            if shift_of(images[i].flip(-1), out[i], 2) is not None:
                return False, f"image {i} is mirrored: a flipped 2 or 5 is no longer a digit"
            return False, f"image {i} is not a shift of at most 2 pixels with zeros filled in (wrapped around?)"
        if len(set(offsets)) < 4:
            return False, f"only {len(set(offsets))} different offset(s) in a batch of 32: draw one per image"
        if not torch.equal(random_shift(images, 0), images):
            return False, "max_shift=0 must return the images unchanged"
        return True, "each image shifted by at most 2 pixels, zeros filled in, offsets vary"
    return _run("random_shift shifts each image on its own", "pad by max_shift with zeros "
                "(nn.functional.pad), then crop a H×W window at a random offset 0..2·max_shift per image", test)


# --- notebook 02 ----------------------------------------------------------------------------------------


def check_reshape_flatten(reshape_class: type[nn.Module], flatten_class: type[nn.Module]) -> Verdict:
    """Notebook 02: ``Reshape(*shape)`` turns (N, D) into (N, *shape) and ``Flatten()`` turns (N, ...) back
    into (N, D), for any batch size N, keeping the pixels in row-by-row order."""
    def test():
        for batch in (1, 5):
            vectors = torch.arange(batch * 64, dtype=torch.float32).reshape(batch, 64)
            images = reshape_class(1, 8, 8)(vectors)
            if tuple(images.shape) != (batch, 1, 8, 8):
                return False, f"Reshape(1, 8, 8) maps {(batch, 64)} to {tuple(images.shape)}"
            if not torch.equal(images[:, 0, 0, :], vectors[:, :8]):
                return False, "the first image row should be the first 8 pixels of the vector"
            flat = flatten_class()(images)
            if tuple(flat.shape) != (batch, 64) or not torch.equal(flat, vectors):
                return False, f"Flatten() maps {(batch, 1, 8, 8)} to {tuple(flat.shape)}, not back to the vectors"
        feature_maps = torch.randn(3, 16, 2, 2)
        if tuple(flatten_class()(feature_maps).shape) != (3, 64):
            return False, "Flatten() should map (3, 16, 2, 2) to (3, 64)"
        return True, "(N, 64) -> (N, 1, 8, 8) -> (N, 64) for N = 1 and 5"
    return _run("Reshape and Flatten", "keep the batch dimension: x.reshape(x.shape[0], *self.shape) and "
                "x.reshape(x.shape[0], -1)", test)


def check_nll(nll: Callable) -> Verdict:
    """Notebook 02: ``nll(log_probs, targets)`` is the mean negative log-probability of the true classes."""
    log_probs = torch.log(torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.25, 0.5, 0.25]]))
    targets = torch.tensor([0, 2, 0])
    expected = -(math.log(0.7) + math.log(0.8) + math.log(0.25)) / 3

    def test():
        value = nll(log_probs, targets)
        if not isinstance(value, torch.Tensor) or value.ndim != 0:
            return False, f"it returned {value!r}, not a 0-dim tensor (one number for the batch)"
        if not math.isclose(value.item(), expected, abs_tol=1e-5):
            return False, f"got {value.item():.4f} on a known batch, expected {expected:.4f}"
        generator = torch.Generator().manual_seed(0)
        scores = torch.log_softmax(torch.randn(50, 10, generator=generator), dim=1)
        labels = torch.randint(0, 10, (50,), generator=generator)
        reference = nn.functional.nll_loss(scores, labels).item()
        if not math.isclose(nll(scores, labels).item(), reference, abs_tol=1e-5):
            return False, f"on 50 random samples it differs from nn.NLLLoss ({reference:.4f})"
        return True, f"{expected:.4f} on a known batch, equal to nn.NLLLoss on random ones"
    return _run("nll", "pick each sample's log-probability of its true class (log_probs[torch.arange(N), "
                "targets]), then take minus the mean", test)


def check_early_stopping(early_stopping_class: type, patience: int = 3) -> Verdict:
    """Notebook 02: ``EarlyStopping(patience).step(val_loss, model)`` keeps the best weights (a copy, not a
    reference), returns True once ``patience`` epochs in a row brought no lower loss, and ``restore(model)``
    puts the best weights back."""
    losses = [1.0, 0.8, 0.9, 0.6, 0.7, 0.65, 0.6, 0.9, 0.5]   # best at epoch 4; epochs 5, 6, 7 are no better
    best_epoch, stop_epoch = 4, 4 + patience

    def test():
        model = nn.Linear(1, 1)
        stopper = early_stopping_class(patience)
        stopped_at = None
        for epoch, loss in enumerate(losses, start=1):
            with torch.no_grad():  # "training": weights that say which epoch they come from
                model.weight.fill_(epoch)
                model.bias.fill_(-epoch)
            if stopper.step(loss, model):
                stopped_at = epoch
                break
        if stopped_at != stop_epoch:
            return False, (f"with patience {patience} and validation losses {losses}, training should stop after "
                           f"epoch {stop_epoch}; it stopped after {stopped_at}")
        stopper.restore(model)
        restored = model.weight.item()
        if restored != best_epoch:
            return False, (f"restore() gave the weights of epoch {restored:g}, not those of the best epoch "
                           f"{best_epoch} (state_dict() holds references to the live weights: keep a deep copy)")
        return True, f"stops after epoch {stop_epoch}, restores epoch {best_epoch}"
    return _run("EarlyStopping", "a loss counts as better only when it is strictly lower than the best so far; "
                "then store copy.deepcopy(model.state_dict()) and reset the counter", test)


def _digit_blobs(n=40):
    """n (64,) vectors in [0, 1] of 4 classes, each class a fixed random 8x8 pattern plus noise."""
    generator = torch.Generator().manual_seed(0)
    patterns = torch.rand(4, 64, generator=generator)
    labels = torch.arange(n) % 4
    return (patterns[labels] + 0.1 * torch.randn(n, 64, generator=generator)).clamp(0, 1), labels


def check_digits_cnn(network: nn.Module, expected_parameters: int, formula: str) -> Verdict:
    """Notebook 02: the CNN maps (N, 64) pixel vectors to (N, 10) scores, has the stated parameter count,
    and learns a small batch."""
    inputs, targets = _digit_blobs()
    results = [
        check_output_shape(network, (5, 64), (5, 10), name="the CNN",
                           hint="start with Reshape(1, 8, 8) and put Flatten() before the first nn.Linear"),
        check_parameter_count(network, expected_parameters, formula, name="the CNN"),
        check_loss_decreases(network, nn.CrossEntropyLoss(), inputs, targets, name="the CNN"),
    ]
    return Verdict(all(results))


# --- notebook 05 ----------------------------------------------------------------------------------------


def _leaf_types(model: nn.Module) -> list[str]:
    return [type(m).__name__ for m in model.modules() if not list(m.children())]


def check_vgg_features(vgg_features: Callable) -> Verdict:
    """Notebook 05: ``vgg_features(cfg, in_channels, batch_norm)`` turns a VGG config list into its layers."""
    cfg = [4, "M", 8, 8, "M"]
    plain_layers = ["Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "Conv2d", "ReLU", "MaxPool2d"]
    bn_layers = ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Conv2d", "BatchNorm2d", "ReLU",
                 "Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d"]
    weights = (3 * 3 * 1 * 4 + 4) + (3 * 3 * 4 * 8 + 8) + (3 * 3 * 8 * 8 + 8)

    def test():
        for batch_norm, layers, n_params in ((False, plain_layers, weights),
                                             (True, bn_layers, weights + 2 * (4 + 8 + 8))):
            model = vgg_features(cfg, 1, batch_norm)
            if _leaf_types(model) != layers:
                return False, f"batch_norm={batch_norm}: layers {_leaf_types(model)}, expected {layers}"
            model.eval()
            with torch.no_grad():
                shape = tuple(model(torch.zeros(2, 1, 28, 28)).shape)
            if shape != (2, 8, 7, 7):
                return False, f"batch_norm={batch_norm}: (2, 1, 28, 28) -> {shape}, expected (2, 8, 7, 7)"
            count = sum(p.numel() for p in model.parameters() if p.requires_grad)
            if count != n_params:
                return False, f"batch_norm={batch_norm}: {count} parameters, expected {n_params}"
        return True, f"(2, 1, 28, 28) -> (2, 8, 7, 7), {weights} parameters = (9·1·4 + 4) + (9·4·8 + 8) + (9·8·8 + 8)"
    return _run("vgg_features builds [4, 'M', 8, 8, 'M']", "for each entry: 'M' -> nn.MaxPool2d(2); a number C -> "
                "nn.Conv2d(C_in, C, kernel_size=3, padding=1), then nn.BatchNorm2d(C) if batch_norm, then nn.ReLU(); "
                "C_in = C for the next one", test)


def check_time_to_accuracy(time_to_accuracy: Callable) -> Verdict:
    """Notebook 05: training seconds until the validation accuracy first reaches a target (None if never)."""
    history = {"epoch": [1, 2, 3, 4], "val_acc": [0.5, 0.8, 0.95, 0.97], "epoch_seconds": [1.0, 2.0, 3.0, 4.0]}
    cases = [(0.9, 6.0), (0.97, 10.0), (0.5, 1.0), (0.99, None)]

    def test():
        for target, expected in cases:
            got = time_to_accuracy(history, target)
            ok = got is None if expected is None else (got is not None and math.isclose(got, expected))
            if not ok:
                return False, f"target {target}: got {got!r}, expected {expected!r}"
        return True, f"on {len(cases)} targets of a known history"
    return _run("time_to_accuracy", "add up epoch_seconds up to and including the first epoch whose val_acc is "
                ">= target; return None when no epoch reaches it", test)


def check_leak_free_split(split: Callable) -> Verdict:
    """Notebook 05: ``split(n_items, val_fraction, seed)`` -> disjoint random train/validation indices."""
    def test():
        train, val = (torch.as_tensor(i).tolist() for i in split(100, 0.2, 0))
        if len(val) != 20 or len(train) != 80:
            return False, f"sizes {len(train)} train / {len(val)} validation, expected 80 / 20"
        overlap = set(train) & set(val)
        if overlap:
            return False, f"{len(overlap)} indices are in both sets: the validation data leaks into training"
        if sorted(train + val) != list(range(100)):
            return False, "together the two sets should hold every index 0..99 exactly once"
        again = torch.as_tensor(split(100, 0.2, 0)[1]).tolist()
        other = torch.as_tensor(split(100, 0.2, 1)[1]).tolist()
        if again != val:
            return False, "the same seed gave a different split"
        if sorted(other) == sorted(val):
            return False, "another seed gave the same validation set: shuffle with a generator seeded by `seed`"
        return True, "80 / 20 indices, disjoint, covering 0..99, reproducible per seed"
    return _run("the split keeps validation out of training", "shuffle 0..n-1 with "
                "torch.randperm(n, generator=torch.Generator().manual_seed(seed)), then cut it in two", test)


def check_weights_roundtrip(save_weights: Callable, load_weights: Callable) -> Verdict:
    """Notebook 05: weights saved as a ``state_dict`` load back with ``torch.load(..., weights_only=True)``."""
    import tempfile
    from pathlib import Path

    def make():
        return nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 2))

    def test():
        torch.manual_seed(0)
        model = make()
        model.train()
        model(torch.randn(8, 4))  # moves the batch-norm running statistics: they must be saved too
        inputs = torch.randn(5, 4)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "weights.pt"
            save_weights(model, path)
            try:
                stored = torch.load(path, weights_only=True)
            except Exception as error:  # torch's message is a page long: say what it means
                return False, (f"torch.load(path, weights_only=True) refused the file ({type(error).__name__}): "
                               "it holds pickled Python objects (a whole model?), not just tensors")
            if not isinstance(stored, dict) or not all(isinstance(v, torch.Tensor) for v in stored.values()):
                return False, f"the file holds a {type(stored).__name__}, not a state_dict (a dict of tensors)"
            torch.manual_seed(1)
            loaded = load_weights(make(), path)
        if not isinstance(loaded, nn.Module):
            return False, f"load_weights returned {type(loaded).__name__}, not the model"
        model.eval(), loaded.eval()
        with torch.no_grad():
            same = torch.equal(model(inputs), loaded(inputs))
        return same, "" if same else "the loaded model computes something else than the saved one"
    return _run("weights survive save and load", "save_weights: torch.save(model.state_dict(), path); "
                "load_weights: model.load_state_dict(torch.load(path, weights_only=True)), then return model", test)


# --- notebook 03 ----------------------------------------------------------------------------------------


def check_mnist_mlp(make_mlp: Callable) -> Verdict:
    """Notebook 03: ``make_mlp(layer_sizes, batch_norm)`` builds Flatten -> [Linear -> (BN) -> ReLU]... -> Linear."""
    def build(layer_sizes, batch_norm=False):
        # fixed initial weights (the same printed losses in every run), and the notebook's random stream untouched
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            return make_mlp(layer_sizes, batch_norm=batch_norm)

    def logits_can_be_negative():
        generator = torch.Generator().manual_seed(0)
        model = build([784, 32, 10])
        model.eval()
        with torch.no_grad():
            outputs = model(torch.randn(64, 1, 28, 28, generator=generator))
        return bool((outputs < 0).any()), "" if (outputs < 0).any() else "all outputs are >= 0"

    inputs = torch.randn(32, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    targets = torch.arange(32) % 10
    results = [
        check_output_shape(build([784, 32, 10]), (5, 1, 28, 28), (5, 10), name="make_mlp([784, 32, 10])",
                           hint="flatten the (N, 1, 28, 28) images to (N, 784) first (nn.Flatten())"),
        check_parameter_count(build([784, 32, 10]), 784 * 32 + 32 + 32 * 10 + 10, "(784·32 + 32) + (32·10 + 10)",
                              name="make_mlp([784, 32, 10])"),
        check_parameter_count(build([784, 512, 512, 10], batch_norm=True),
                              (784 * 512 + 512) + 2 * 512 + (512 * 512 + 512) + 2 * 512 + (512 * 10 + 10),
                              "(784·512 + 512) + 2·512 + (512·512 + 512) + 2·512 + (512·10 + 10)",
                              name="make_mlp([784, 512, 512, 10], batch_norm=True)"),
        check_nonlinear(build([784, 32, 10]), 784, name="make_mlp([784, 32, 10])"),
        _run("the last layer gives logits", "no activation after the last nn.Linear: logits can be negative, "
             "and CrossEntropyLoss applies the softmax itself", logits_can_be_negative),
        check_loss_decreases(build([784, 32, 10]), nn.CrossEntropyLoss(), inputs, targets,
                             name="make_mlp([784, 32, 10])"),
    ]
    return Verdict(all(results))


def check_conv_output_size(conv_output_size: Callable) -> Verdict:
    """Notebook 03: ``conv_output_size(size, kernel_size, stride, padding)`` = floor((size + 2p - k) / s) + 1."""
    cases = [((28, 8, 2, 0), 11), ((28, 3, 1, 1), 28), ((28, 5, 1, 0), 24), ((28, 3, 2, 0), 13),
             ((14, 2, 2, 0), 7), ((7, 3, 2, 1), 4), ((28, 5, 2, 2), 14), ((5, 5, 1, 0), 1)]

    def test():
        for (size, kernel, stride, padding), expected in cases:
            got = conv_output_size(size, kernel, stride, padding)
            if not isinstance(got, int) or got != expected:
                return False, (f"conv_output_size({size}, {kernel}, {stride}, {padding}) returned {got!r}, "
                               f"expected {expected}")
        return True, f"on {len(cases)} known layers"
    return _run("conv_output_size gives the right sizes", "floor((size + 2·padding - kernel_size) / stride) + 1, "
                "as an int: use // for the division", test)


def check_layer_parameters(expected_parameters: Callable) -> Verdict:
    """Notebook 03: ``expected_parameters(layer)`` gives the formula count of Linear, Conv2d and BatchNorm layers."""
    def test():  # (the layers are made in here: _run keeps their random initialisation out of the notebook's stream)
        layers = [nn.Linear(784, 32), nn.Linear(512, 10, bias=False), nn.Conv2d(1, 10, 8, stride=2),
                  nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.Conv2d(3, 8, (3, 5)), nn.BatchNorm1d(512),
                  nn.BatchNorm2d(16)]
        for layer in layers:
            actual = sum(p.numel() for p in layer.parameters())
            got = expected_parameters(layer)
            if got != actual:
                return False, f"for {layer} it returned {got!r}; the layer has {actual}"
        return True, f"on {len(layers)} layers, with and without biases"
    return _run("expected_parameters matches the layers", "Linear: in·out + out; Conv2d: k_h·k_w·C_in·C_out + C_out; "
                "BatchNorm: 2·C (a scale and a shift per channel); no bias term when layer.bias is None", test)
