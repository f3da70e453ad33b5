"""``fftconv bench``: time every backend on a table of layer shapes."""

from __future__ import annotations


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "bench", help="time every backend on layer shapes (median ms and ratios)",
        description="Time every conv2d backend (and PyTorch when installed) on a table "
                    "of layer shapes; print median milliseconds and the ratio to the "
                    "fastest entry of each row.")
    p.add_argument("--layer", action="append", metavar="SPEC",
                   help="a layer as N=..,C=..,H=..,W=..,O=..,K=..[,S=..,P=..,D=..,G=..]; "
                        "repeatable (default: a built-in table of typical layers)")
    p.add_argument("--backend", action="append", metavar="NAME",
                   help="backend to time; repeatable (default: all)")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--repeats", type=int, default=5, help="timed runs per entry (median)")
    p.add_argument("--threads", type=int, default=None, help="BLAS/FFT/torch threads")
    p.add_argument("--backward", action="store_true", help="also time forward+backward")
    p.add_argument("--no-peers", action="store_true", help="do not time PyTorch")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..bench import DEFAULT_LAYERS, format_table, parse_layer, run_layer_bench

    layers = [parse_layer(text) for text in args.layer] if args.layer else DEFAULT_LAYERS
    rows = run_layer_bench(layers, backends=args.backend, dtype=args.dtype,
                           repeats=args.repeats, backward=args.backward,
                           threads=args.threads, peers=() if args.no_peers else ("torch",))
    print(format_table(rows))
    return 0
