# The two commands a newcomer needs: `make run` and `make test`.
# Both create .venv on first use; nothing else has to be installed but Python ≥ 3.11.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test lint messages clean-data vendor-assets

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

# The console's browser libraries are committed (a government network has no CDN and a
# newcomer may have no Node.js); this refreshes them from the npm registry at the
# versions pinned in assets/package.json.
VENDOR := civicgrid/platform/console/static/vendor
vendor-assets:
	cd assets && npm install --no-audit --no-fund --ignore-scripts
	cp assets/node_modules/htmx.org/dist/htmx.min.js assets/node_modules/htmx.org/LICENSE $(VENDOR)/htmx/
	cp assets/node_modules/leaflet/dist/leaflet.js assets/node_modules/leaflet/dist/leaflet.css assets/node_modules/leaflet/LICENSE $(VENDOR)/leaflet/
	cp assets/node_modules/leaflet/dist/images/* $(VENDOR)/leaflet/images/
	cp assets/node_modules/echarts/dist/echarts.min.js assets/node_modules/echarts/LICENSE assets/node_modules/echarts/NOTICE $(VENDOR)/echarts/
