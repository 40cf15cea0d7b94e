"""Intake (SPEC §3): files -> readers -> sheet grids -> layouts -> responses and rejections."""

from csat.intake.files import InputFile, discover
from csat.intake.read import read_file

__all__ = ["InputFile", "discover", "read_file"]
