"""What the PyTorch case generators (tests/parity/make_layer_cases.py,
tests/gradients/make_gradient_cases.py) share: the output directory, one case
file with its metadata, and the command line `SCRIPT OUTDIR`.

Every case file's "__metadata__" starts with "case" (the case name), "layers"
(the layer configs as JSON), "input" ("C,H,W" or "F", one sample), then the
generator's own keys, and ends with "torch" (the torch version).
"""
import json
import pathlib
import sys

import torch

from safetensors_np import write_safetensors


def prepare_run(outdir):
    """Creates OUTDIR, removes the case files of earlier runs (the directory
    holds exactly this run's cases), puts torch on one thread; returns OUTDIR
    as a Path."""
    out = pathlib.Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.safetensors"):
        stale.unlink()
    torch.set_num_threads(1)
    return out


def write_case(out, name, tensors, layers, shape, **metadata):
    """Writes OUTDIR/<name>.safetensors: `tensors`, and the metadata above with
    the keyword arguments (strings) as the generator's own keys, in order."""
    metadata = {
        "case": name,
        "layers": json.dumps(layers),
        "input": ",".join(str(s) for s in shape),
        **metadata,
        "torch": torch.__version__,
    }
    write_safetensors(out / f"{name}.safetensors", tensors, metadata)


def main_with_outdir(main, script):
    """Calls main(OUTDIR) with the one command-line argument, or exits with
    the usage line of `script` (the generator's file name)."""
    if len(sys.argv) != 2:
        sys.exit(f"usage: {script} OUTDIR")
    main(sys.argv[1])
