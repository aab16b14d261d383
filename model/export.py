"""Write the full network to files other Bayesian-network tools open (BIF and XMLBIF).

pgmpy's own writers do the work, so GeNIe, pyAgrum, bnlearn or Netica users get the same network
and, to rounding, the same posteriors.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pgmpy takes seconds to import: only writing a file needs it
    from pgmpy.models import DiscreteBayesianNetwork

EXPORT_FORMATS = ("bif", "xmlbif")


def export_network(network: DiscreteBayesianNetwork, path: str | Path, fmt: str = "bif") -> Path:
    """Write a network to ``path`` in BIF or XMLBIF.

    Parameters
    ----------
    network : pgmpy.models.DiscreteBayesianNetwork
        Usually ``build_model().network``.
    path : str or Path
        The file to write; its folder must exist.
    fmt : {"bif", "xmlbif"}
        The file format.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ValueError
        For an unknown format.

    Examples
    --------
    >>> import tempfile
    >>> from model import build_model
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     written = export_network(build_model().network, Path(folder) / "pcb.bif")
    ...     written.stat().st_size > 0
    True
    """
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown format '{fmt}'; use one of: {', '.join(EXPORT_FORMATS)}")
    from pgmpy.readwrite import BIFWriter, XMLBIFWriter

    path = Path(path)
    writer = BIFWriter(network) if fmt == "bif" else XMLBIFWriter(network)
    writer.write(str(path))
    return path
