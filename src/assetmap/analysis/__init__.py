"""Analysis: frames in, frames out; distance work in a projected CRS; inputs never mutated."""
