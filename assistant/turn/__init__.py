"""The support turn's stages, one module per stage (moving here from assistant/)."""
