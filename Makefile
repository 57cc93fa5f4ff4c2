# The two commands a newcomer needs: `make run` and `make test`.
# Both create .venv on first use; nothing else has to be installed but Python ≥ 3.11.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test lint messages clean-data

$(BIN)/civicgrid: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(BIN)/civicgrid
	$(BIN)/civicgrid run --port $(PORT)

test: $(BIN)/civicgrid
	$(BIN)/pytest

lint: $(BIN)/civicgrid
	$(BIN)/ruff check .

messages: $(BIN)/civicgrid
	$(BIN)/civicgrid makemessages -l zh_Hans --ignore=.venv --ignore=tests --ignore=bench --ignore=examples --ignore=.civicgrid --ignore=deploy
	$(BIN)/civicgrid compilemessages --ignore=.venv

clean-data:
	rm -rf .civicgrid
