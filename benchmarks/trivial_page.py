"""A trivial Streamlit page with the app's kind of controls: the yardstick for `app_browser.py`."""

import streamlit as st

FINDINGS = ["recurrent", "dryness", "fever", "itching", "pelvic_pain", "dysuria",
            "abnormal_discharge", "heavy_periods", "vigorous_sex", "easy_bruising"]  # fmt: skip

st.set_page_config(page_title="Trivial page", layout="wide")
st.title("A trivial page")
with st.sidebar:
    st.selectbox("Age", ["Unknown", "under 25", "25 to 34"], key="context:age_band")
for finding in FINDINGS:
    st.segmented_control(finding, ["yes", "no"], key=f"finding:{finding}", format_func=str.capitalize)
answered = {f: st.session_state[f"finding:{f}"] for f in FINDINGS if st.session_state[f"finding:{f}"]}
st.write(f"Answered: {len(answered)}")
