"""FCC Broadband Data Collection, end to end.

Reading (CSV, zip, Parquet: :mod:`assetmap.bdc.read`), row checks, the BEAD rule sets as data
(:mod:`assetmap.bdc.rules`), service levels per location and per area
(:mod:`assetmap.bdc.levels`), the streamed aggregation of files (:mod:`assetmap.bdc.aggregate`,
with the fast engine in :mod:`assetmap.bdc.fast`), release comparison and the Dask path.
Nothing outside this package knows a technology code or a speed threshold.
"""
