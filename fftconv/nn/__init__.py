"""fftconv.nn: a small numpy CNN trainer on the fftconv convolution API.

The same network trains on every convolution backend (``backend=`` per
:class:`Conv2d`, or globally with :func:`fftconv.set_backend`), so backends can be
compared on real work. Layers implement forward and backward by hand (the
formulas of Bouvrie 2006 and LeCun et al. 1998); nothing here uses autograd.

Modules and layers
    :class:`Module`, :class:`Parameter`, :class:`Sequential`, :class:`Conv2d`,
    :class:`MaxPool2d`, :class:`AvgPool2d`, :class:`Subsample2d`, :class:`ReLU`,
    :class:`Sigmoid`, :class:`Tanh`, :class:`Flatten`, :class:`Linear`,
    :class:`RBF`, :class:`Dropout`; in the frequency domain :class:`SpectralPool2d`
    and :class:`SpectralConv2d`. Layers with parameters accept
    ``allocate=False``: shapes without arrays, for counting big networks.
Losses and optimizers
    :class:`CrossEntropyLoss`, :class:`MSELoss`, :class:`SGD`, :class:`Adam`.
Models
    :func:`lenet5`, :func:`lenet5_modern`, :func:`build_model`.
Data
    :func:`load_digits`, :func:`load_mnist`, :func:`read_idx`,
    :func:`train_test_split`, :func:`minibatches`.
Training
    :func:`fit`, :func:`evaluate`, :func:`predict`, :class:`History`,
    :func:`summary`, :func:`save_checkpoint`, :func:`load_checkpoint`,
    :func:`read_checkpoint`, :func:`compare_epoch_times`.
"""

from .checkpoint import (atomic_write, load_checkpoint, read_checkpoint, read_npy_header,
                         remove_stale_temporaries, save_checkpoint)
from .compare import compare_epoch_times, format_comparison
from .data import idx_splits, load_digits, load_mnist, minibatches, read_idx, train_test_split
from .layers import (RBF, AvgPool2d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU,
                     Sequential, Sigmoid, Subsample2d, Tanh, lenet5_connection_table)
from .losses import CrossEntropyLoss, Loss, MSELoss, log_softmax, softmax
from .models import MODELS, build_model, lenet5, lenet5_modern
from .module import Module, Parameter
from .optim import SGD, Adam, Optimizer
from .spectral import SpectralConv2d, SpectralPool2d
from .summary import LayerSummary, Summary, summary
from .train import History, evaluate, fit, predict

__all__ = [
    "Module", "Parameter", "Sequential", "Conv2d", "MaxPool2d", "AvgPool2d", "Subsample2d",
    "ReLU", "Sigmoid", "Tanh", "Flatten", "Linear", "RBF", "Dropout", "lenet5_connection_table",
    "SpectralPool2d", "SpectralConv2d",
    "Loss", "CrossEntropyLoss", "MSELoss", "log_softmax", "softmax",
    "Optimizer", "SGD", "Adam",
    "lenet5", "lenet5_modern", "MODELS", "build_model",
    "load_digits", "load_mnist", "read_idx", "idx_splits", "train_test_split", "minibatches",
    "History", "fit", "evaluate", "predict",
    "Summary", "LayerSummary", "summary",
    "save_checkpoint", "load_checkpoint", "read_checkpoint", "atomic_write",
    "remove_stale_temporaries", "read_npy_header",
    "compare_epoch_times", "format_comparison",
]
