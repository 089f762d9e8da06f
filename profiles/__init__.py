"""Application Profiles and tables from the standard, shipped as data (TOML).

Installed as the package ``mediakit._profiledata``; read by :mod:`mediakit.profiles`.
"""
