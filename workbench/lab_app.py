"""The Model lab's page script: ``st.navigation`` runs this file (so AppTest can switch to it)."""

from workbench import lab_page

lab_page.render()
