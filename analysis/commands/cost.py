"""``fftconv cost``: parameters, multiply-adds and memory of a network or one layer."""

from __future__ import annotations

from fftconv.commands.options import int_range


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
        layer = parse_layer(args.model)
        conv = nn.Conv2d(layer.c, layer.o, layer.k, stride=layer.stride, padding=layer.padding,
                         dilation=layer.dilation, groups=layer.groups, allocate=False)
        network = nn.Sequential({"conv": conv}, input_shape=(layer.c, layer.h, layer.w),
                                name=layer.describe())
        batch = layer.n if args.batch is None else args.batch
    else:
        network = get_model(args.model)
        batch = 1 if args.batch is None else args.batch
    cost = network_cost(network, batch=batch, dtype=args.dtype, fit=args.fit)
    print(cost.table(backend_costs=args.backend_costs))
    return 0
