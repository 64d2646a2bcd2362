"""The Streamlit UI of Digit Workbench: page parts over the ``digit_pipeline`` package.

Only UI lives here (each function draws one part of a page and returns plain values); all
image and model work is the package's. ``streamlit_app.py`` is the entry point.

- :mod:`workbench.pages`: the pages, one each, registered one way
  (:mod:`~workbench.pages.reading`, :mod:`~workbench.pages.lab`,
  :mod:`~workbench.pages.batch`), each page's parts beside it;
- :mod:`workbench.common`: constants, the picked image (:class:`~workbench.common.Source`),
  the bundled samples and the model list;
- :mod:`workbench.cache`: the cached work (decoded image, fit, prepared image, readings)
  and the model loaded in the background;
- :mod:`workbench.controls`: the parameters <-> widget state pair, the auto-fit step, the
  sidebar's stage controls and the model picker (the reading and batch pages share them);
- :mod:`workbench.state`: the widget values kept across pages;
- :mod:`workbench.runtime`: Streamlit's after-run epilogue without ``clear_session``.
"""
