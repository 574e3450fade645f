"""The Solver: minibatch training of a course_lib model, with the lecture's babysitting.

    solver = Solver(model, load_dataset("digits"), update_rule="adam",
                    optim_config={"learning_rate": 1e-3}, num_epochs=10)
    solver.train()

While it trains, the Solver records what the lecture says to watch: the loss at
every iteration, train and validation accuracy after every epoch, and for every
parameter the update/weight ratio ||next_w - w|| / ||w|| (about 1e-3 is
healthy). It stops early when the loss explodes, and at the end puts the
parameters with the best validation accuracy back into the model.

The model contract (what the Solver relies on; course_lib.models follow it):

* `model.params`: a dict name -> numpy array, every learnable parameter. Its
  names are fixed when training starts. After each step the Solver REPLACES
  each entry with the updated array (`model.params[name] = next_w`), so the
  model must read its parameters from this dict on every call, not keep
  references of its own.
* `model.loss(X)`: scores of shape (N, C) for a batch of inputs, in test mode
  (no dropout, batchnorm on its running statistics); the Solver takes the
  argmax to measure accuracy.
* `model.loss(X, y)`: (loss, grads) in train mode: the loss a float, grads a dict
  with the gradient of every entry of model.params (same names and shapes).
* `model.norm_params` (optional): state that is not learned but belongs to the
  parameters, such as batchnorm's running mean and variance. When present, the
  Solver deep-copies it together with the best parameters and puts it back
  (as a new object: `model.norm_params = copy`) at the end of training.

Randomness: one seed gives two independent streams, one for the minibatches and
one for the accuracy subsets, so measuring accuracy on more or fewer examples
never changes the training path. A model's own randomness (dropout masks) is
seeded by the model.
"""

import copy
import warnings

import numpy as np
from tqdm.auto import tqdm

from course_lib import optim
from course_lib.checks import check_array, check_count, check_labels, check_positive

#: Stop when the loss exceeds this multiple of the first iteration's loss.
EXPLOSION_FACTOR = 3.0

#: Runs of at least this many iterations get a progress bar (when verbose).
LONG_RUN_ITERATIONS = 200


class Solver:
    """Train a model with minibatch gradient descent and record its progress.

    Attributes after train():
    - loss_history: list of floats, the training loss of every iteration.
    - train_acc_history, val_acc_history: lists of accuracies in [0, 1], entry 0
      before training, then one after every epoch.
    - update_ratio_history: dict parameter name -> list of floats, per
      iteration ||update|| / ||weights before the update|| (NaN while the
      weights are all zero, as biases are at the start).
    - best_val_acc: the best validation accuracy seen; best_params: a copy of
      the parameters that reached it (also loaded into the model at the end).
    - stopped_early: True when training stopped because the loss exploded;
      stop_reason: the message saying why (None otherwise).
    - optim_configs: dict parameter name -> that parameter's own optim config.
    """

    def __init__(
        self,
        model,
        data,
        update_rule="sgd",
        optim_config=None,
        lr_decay=1.0,
        batch_size=100,
        num_epochs=10,
        verbose=True,
        print_every=None,
        num_train_samples=1000,
        num_val_samples=None,
        seed=None,
        augment=None,
        frozen=(),
    ):
        """Set up training; nothing runs until train().

        Inputs:
        - model: an object that follows the model contract of the module doc
          (`params`, `loss(X, y=None)`, optionally `norm_params`).
        - data: a dict as returned by course_lib.data.load_dataset, with
          X_train (N, ...), y_train (N,), X_val (M, ...) and y_val (M,).
        - update_rule: a name in course_lib.optim.UPDATE_RULES, or a function
          rule(w, dw, config) -> (next_w, config).
        - optim_config: dict of hyperparameters for the update rule (such as
          learning_rate); every parameter gets its own deep copy.
        - lr_decay: the learning rate is multiplied by this after every epoch.
        - batch_size: training examples per iteration (drawn without replacement).
        - num_epochs: passes over the training data.
        - verbose: print one line per epoch and show a progress bar on runs of
          LONG_RUN_ITERATIONS iterations or more; False keeps training silent.
        - print_every: when verbose, also print the loss every this many
          iterations (None: only the per-epoch lines).
        - num_train_samples: training examples used to measure train accuracy
          (a random subset; None for all).
        - num_val_samples: validation examples used to measure val accuracy
          (a random subset; None for all).
        - seed: seeds the minibatch sampling and, in a stream of its own, the
          accuracy subsets.
        - augment: None, or a function augment(X_batch, rng) -> X_batch of the
          same shape, applied to every training minibatch before the forward
          pass (data augmentation); rng is the Solver's seeded minibatch
          np.random.Generator. Accuracies are measured on the unchanged data.
        - frozen: names of entries of model.params to leave unchanged (the
          frozen layers of transfer learning): they get no update and no
          update_ratio_history entries.
        """
        self.model = model
        self.X_train, self.y_train = self._split(data, "train")
        self.X_val, self.y_val = self._split(data, "val")
        if callable(update_rule):
            self.update_rule = update_rule
        else:
            self.update_rule = optim.get_update_rule(update_rule)
        self.optim_config = dict(optim_config or {})
        self.lr_decay = check_positive("lr_decay", lr_decay)
        self.batch_size = check_count("batch_size", batch_size)
        self.num_epochs = check_count("num_epochs", num_epochs)
        self.verbose = verbose
        self.print_every = check_count("print_every", print_every, allow_none=True)
        self.num_train_samples = check_count("num_train_samples", num_train_samples, allow_none=True)
        self.num_val_samples = check_count("num_val_samples", num_val_samples, allow_none=True)
        # The minibatches keep the seed's own stream (a run that never samples draws as before);
        # the accuracy subsets get a child stream, independent of it.
        seeds = np.random.SeedSequence(seed)
        self._batch_rng = np.random.default_rng(seeds)
        self._sample_rng = np.random.default_rng(seeds.spawn(1)[0])
        if augment is not None and not callable(augment):
            raise ValueError(f"augment must be None or a function augment(X_batch, rng), got {augment!r}")
        self.augment = augment
        self.frozen = self._frozen_names(frozen)
        self._reset()

    def _frozen_names(self, frozen):
        """The frozen parameter names as a frozenset, each checked against model.params."""
        if isinstance(frozen, str):
            raise ValueError(
                f"frozen must be a list of parameter names, such as [{frozen!r}], got the string {frozen!r}"
            )
        names = frozenset(frozen)
        unknown = sorted(names - set(self.model.params))
        if unknown:
            raise ValueError(f"frozen names {unknown} that are not in model.params {sorted(self.model.params)}")
        return names

    @staticmethod
    def _split(data, split):
        """X and y of one split of a load_dataset dict, checked against each other."""
        for key in (f"X_{split}", f"y_{split}"):
            if key not in data:
                raise ValueError(f"data must contain {key!r} (a dict as returned by load_dataset)")
        X = check_array(f"data['X_{split}']", data[f"X_{split}"])
        if X.ndim < 2:
            raise ValueError(f"data['X_{split}'] must have shape (N, ...), got shape {X.shape}")
        y = check_labels(f"data['y_{split}']", data[f"y_{split}"], X.shape[0])
        return X, y

    def _reset(self):
        """Empty histories and a fresh optim config for every parameter."""
        self.epoch = 0
        self.loss_history = []
        self.train_acc_history = []
        self.val_acc_history = []
        self.update_ratio_history = {name: [] for name in self.model.params}
        self.optim_configs = {name: copy.deepcopy(self.optim_config) for name in self.model.params}
        self.best_val_acc = -1.0
        self.best_params = {}
        self._best_norm_params = None
        self.stopped_early = False
        self.stop_reason = None

    @property
    def iterations_per_epoch(self):
        """Minibatch steps in one pass over the training set (at least 1)."""
        return max(self.X_train.shape[0] // self.batch_size, 1)

    def _step(self):
        """One minibatch gradient step on every parameter; returns the loss."""
        num_train = self.X_train.shape[0]
        batch = self._batch_rng.choice(num_train, size=min(self.batch_size, num_train), replace=False)
        X_batch = self.X_train[batch]
        if self.augment is not None:
            X_batch = self.augment(X_batch, self._batch_rng)
            if np.shape(X_batch) != (len(batch), *self.X_train.shape[1:]):
                raise ValueError(
                    f"augment must return a batch of the shape it was given, "
                    f"{(len(batch), *self.X_train.shape[1:])}, got {np.shape(X_batch)}"
                )
        loss, grads = self.model.loss(X_batch, self.y_train[batch])
        for name, w in self.model.params.items():
            if name in self.frozen:
                continue
            next_w, self.optim_configs[name] = self.update_rule(w, grads[name], self.optim_configs[name])
            weight_norm = np.linalg.norm(w)
            ratio = np.linalg.norm(next_w - w) / weight_norm if weight_norm > 0 else np.nan
            self.update_ratio_history[name].append(float(ratio))
            self.model.params[name] = next_w
        return float(loss)

    def _explosion(self, loss):
        """The reason to stop if the latest `loss` is NaN/inf or above 3x the first loss, else None."""
        iteration = len(self.loss_history)
        if not np.isfinite(loss):
            return f"the loss became {loss} at iteration {iteration}: the learning rate is probably too high"
        first = self.loss_history[0]
        if loss > EXPLOSION_FACTOR * first:
            return (
                f"the loss {loss:.4g} at iteration {iteration} exceeds {EXPLOSION_FACTOR:g}x "
                f"its first value {first:.4g}: the learning rate is probably too high"
            )
        return None

    def check_accuracy(self, X, y, num_samples=None, batch_size=100):
        """Fraction of examples the model classifies correctly.

        Inputs:
        - X: (N, ...) inputs the model accepts.
        - y: (N,) integer labels.
        - num_samples: evaluate on a random subset of this size (None: all N),
          drawn from the Solver's sampling stream (never the minibatch one).
        - batch_size: examples per forward pass.

        Returns a float in [0, 1].
        """
        X = check_array("X", X)
        y = check_labels("y", y, X.shape[0])
        num_samples = check_count("num_samples", num_samples, allow_none=True)
        if num_samples is not None and X.shape[0] > num_samples:
            subset = self._sample_rng.choice(X.shape[0], size=num_samples, replace=False)
            X, y = X[subset], y[subset]
        predictions = np.concatenate(
            [np.argmax(self.model.loss(X[i : i + batch_size]), axis=1) for i in range(0, X.shape[0], batch_size)]
        )
        return float(np.mean(predictions == y))

    def _record_accuracy(self):
        """Append train and val accuracy; keep a copy of the parameters if val is the best so far."""
        train_acc = self.check_accuracy(self.X_train, self.y_train, self.num_train_samples)
        val_acc = self.check_accuracy(self.X_val, self.y_val, self.num_val_samples)
        self.train_acc_history.append(train_acc)
        self.val_acc_history.append(val_acc)
        if val_acc > self.best_val_acc:
            self.best_val_acc = val_acc
            self.best_params = {name: p.copy() for name, p in self.model.params.items()}
            # batchnorm's running averages belong to those parameters: restore them together
            self._best_norm_params = copy.deepcopy(getattr(self.model, "norm_params", None))

    def _say(self, message):
        """Print one line when verbose, without breaking the progress bar."""
        if self.verbose:
            tqdm.write(message)

    def _epoch_line(self):
        """One short summary line of the epoch just finished."""
        learning_rates = {c.get("learning_rate") for c in self.optim_configs.values()} - {None}
        lr = f", lr {learning_rates.pop():.2e}" if len(learning_rates) == 1 else ""
        loss = f", loss {self.loss_history[-1]:.4f}" if self.loss_history else ""
        return (
            f"epoch {self.epoch}/{self.num_epochs}{loss}, train acc {self.train_acc_history[-1]:.3f}, "
            f"val acc {self.val_acc_history[-1]:.3f}{lr}"
        )

    def train(self):
        """Run num_epochs epochs of minibatch updates (or stop early); returns None.

        The histories start afresh on every call; the model's parameters
        continue from where they are. At the end the best parameters (by
        validation accuracy) are loaded into the model.
        """
        self._reset()
        iterations_per_epoch = self.iterations_per_epoch
        num_iterations = self.num_epochs * iterations_per_epoch
        self._record_accuracy()
        self._say(self._epoch_line())
        show_bar = self.verbose and num_iterations >= LONG_RUN_ITERATIONS
        with tqdm(total=num_iterations, desc="training", disable=not show_bar) as bar:
            for t in range(1, num_iterations + 1):
                loss = self._step()
                self.loss_history.append(loss)
                reason = self._explosion(loss)
                if reason is not None:
                    self.stopped_early, self.stop_reason = True, "Stopped early: " + reason
                    warnings.warn(self.stop_reason, RuntimeWarning, stacklevel=2)
                    break
                bar.update(1)
                bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
                if self.print_every and t % self.print_every == 0:
                    self._say(f"iteration {t}/{num_iterations}: loss {loss:.4f}")
                if t % iterations_per_epoch == 0:
                    self.epoch += 1
                    for config in self.optim_configs.values():
                        if "learning_rate" in config:
                            config["learning_rate"] *= self.lr_decay
                    self._record_accuracy()
                    self._say(self._epoch_line())
        self.model.params.update({name: p.copy() for name, p in self.best_params.items()})
        if self._best_norm_params is not None:
            self.model.norm_params = copy.deepcopy(self._best_norm_params)
