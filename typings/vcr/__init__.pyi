# vcrpy ships no type information: the part pytest-pvemock uses.
from vcr.config import VCR as VCR

__version__: str
