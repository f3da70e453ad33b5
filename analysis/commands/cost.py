"""``fftconv cost``: parameters, multiply-adds and memory of a network or one layer."""

from __future__ import annotations

import argparse

from fftconv.commands.options import UsageError, int_range, parsed_by

_LECUN = ('Y. LeCun, L. Bottou, Y. Bengio and P. Haffner, "Gradient-based learning '
          'applied to document recognition", Proc. IEEE 86(11), 1998')
_SIMONYAN = ('K. Simonyan and A. Zisserman, "Very deep convolutional networks for '
             'large-scale image recognition", ICLR 2015; memory column as in Stanford '
             "CS231n's VGG-16 table")
_QIU = "Qiu Xipeng, Neural Networks and Deep Learning, ch. 5 (time and space complexity)"

#: The source each built-in network's table follows, printed under it (author and
#: title, as the docs cite them).
SOURCES = {"lenet5": _LECUN, "vgg16": _SIMONYAN, "conv3x3-256": _QIU,
           "bottleneck-256": _QIU}


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "cost", help="parameters, multiply-adds and memory of a network or layer",
        description="Print the cost table of a network (lenet5, vgg16, conv3x3-256, "
                    "bottleneck-256) or of one conv layer: output shape, weights, "
                    "parameters, connections, multiply-adds, activation memory, im2col "
                    "and FFT buffer sizes and receptive field, layer by layer.")
    p.add_argument("model", metavar="MODEL|SPEC",
                   help="a network name, or one layer as N=..,C=..,H=..,W=..,O=..,K=.."
                        "[,S=..,P=..,D=..,G=..]")
    p.add_argument("--batch", type=int_range(1), default=None,
                   help="images per forward pass (default: 1, or N of a SPEC)")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                   help="dtype of the memory columns (default: float32, 4 bytes per value)")
    p.add_argument("--fit", choices=("exact", "floor", "pad"), default="exact",
                   help="windows that do not tile the input: error (exact), drop the "
                        "last one as conv2d does (floor), or zero-pad (pad)")
    p.add_argument("--backend-costs", action="store_true",
                   help="add each backend's estimated forward time per conv layer "
                        "(the selection model of fftconv.choose_backend)")
    p.set_defaults(func=run)


def run(args) -> int:
    from analysis.architectures import get_model
    from analysis.complexity import network_cost

    from fftconv import nn
    from fftconv.bench import parse_layer

    if "=" in args.model:
        try:
            layer = parsed_by(lambda: parse_layer, "layer")(args.model)
        except argparse.ArgumentTypeError as exc:
            raise UsageError(f"argument MODEL|SPEC: {exc}") from None
        conv = nn.Conv2d(layer.c, layer.o, layer.k, stride=layer.stride, padding=layer.padding,
                         dilation=layer.dilation, groups=layer.groups, allocate=False)
        network = nn.Sequential({"conv": conv}, input_shape=(layer.c, layer.h, layer.w),
                                name=layer.describe())
        batch = layer.n if args.batch is None else args.batch
    else:
        if args.model not in SOURCES:
            raise UsageError(f"argument MODEL|SPEC: must be a network name ("
                             f"{', '.join(SOURCES)}) or a layer such as "
                             f"N=1,C=3,H=32,W=32,O=16,K=3; got {args.model!r}")
        network = get_model(args.model)
        batch = 1 if args.batch is None else args.batch
    cost = network_cost(network, batch=batch, dtype=args.dtype, fit=args.fit)
    print(cost.table(backend_costs=args.backend_costs))
    if args.model in SOURCES:
        print(f"source: {SOURCES[args.model]}")
    return 0
