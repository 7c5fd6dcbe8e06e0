"""Loaders: read, validate and normalise sources into documented frames (EPSG:4326, string GEOIDs).

``load_*`` functions read official or network sources (Census, FCC, NCES); ``read_*`` functions
read a user's own files. None of them scores.
"""
