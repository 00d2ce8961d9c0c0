"""Stage 3: the image model (index → manifest → config → layers) and the layer reader."""
