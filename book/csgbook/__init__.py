"""csgbook: what only the book needs, on top of the ``csg`` library.

    experiments  -- runs at the active profile's scale (read from results/ when recorded), tables
    claims       -- the paper's claims as data, judged over seeds by csg.stats's rule; the scorecard
    paper        -- the paper's reported numbers, to print beside ours
    viz          -- the chapters' figures
    attention    -- Grad-CAM maps and the share of a map on a digit's strokes (Fig. 5)

``csg`` never imports this package: the library stays usable on one's own data.
"""
