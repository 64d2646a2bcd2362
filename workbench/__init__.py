"""The Streamlit UI of Digit Workbench: page parts over the ``digit_pipeline`` package.

Only UI lives here (each function draws one part of a page and returns plain values); all
image and model work is the package's. ``streamlit_app.py`` is the entry point.

- :mod:`workbench.common`: constants, the picked image (:class:`~workbench.common.Source`),
  the bundled samples and the model list;
- :mod:`workbench.cache`: the cached work (decoded image, fit, prepared image, readings)
  and the model loaded in the background;
- :mod:`workbench.sources`: the sidebar's image picker, the camera and the canvas;
- :mod:`workbench.controls`: the parameters <-> widget state pair, the auto-fit step, the
  sidebar's stage controls and the model picker;
- :mod:`workbench.reading_page`: the reading page (boxes, stages, digits, reading, downloads);
- :mod:`workbench.dataset_panel`: saving to, showing and fine-tuning on the user's dataset.
"""
