"""mediakit: build, check and import DICOM interchange media, radiotherapy first."""

__version__ = "0.1.0"

# Implementation Class UID (PS3.7 D.3.3.2), written into every File Meta we make.
# A 2.25 UID (PS3.5 B.2) from uuid5(NAMESPACE_DNS, "mediakit.implementation"),
# so it needs no registered root and never changes.
IMPLEMENTATION_CLASS_UID = "2.25.118584943117960311909191770567463275965"
IMPLEMENTATION_VERSION_NAME = "MEDIAKIT_010"  # SH, 16 characters at most
