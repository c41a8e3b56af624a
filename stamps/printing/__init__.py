"""Print-ready stamps: label layouts, QR symbols in bulk, and the output formats people print from.

- ``layout``: A4 sticker grids, roll labels and custom grids (the presets ``--help`` lists);
- ``label``: what one label says (product, stars, lot, serial, short code) and where each part goes;
- ``symbols``: QR module matrices, built in bulk by zxing-cpp and checked against segno's reference;
- ``fonts``: the embedded Vietnamese font;
- ``pdf``, ``images``, ``thermal``: PDF sheets and roll pages, SVG/PNG per stamp, ZPL and TSPL;
- ``jobs``: one entry point that writes a batch's stamps in the chosen format.
"""
