.PHONY: setup demo test lint bench test-kernels test-matrix matrix-report clean
setup:
	scripts/setup.sh
demo:
	scripts/demo.sh
test:
	scripts/test.sh
lint: setup
	.venv/bin/ruff check tracer tests bench trace-hooks/*/manager scripts/tracer
bench: setup
	.venv/bin/python bench/run.py
test-kernels: setup
	vagrant/run-qemu $(if $(KERNEL),--kernel $(KERNEL)) $(if $(ARGS),-- $(ARGS))
test-matrix: setup
	vagrant/test-matrix $(if $(JOBS),-j $(JOBS)) $(if $(SHARDS),--shards $(SHARDS)) $(if $(KERNELS),--kernels "$(KERNELS)") $(if $(ARGS),-- $(ARGS))
matrix-report:
	vagrant/test-matrix --report
clear: setup
	.venv/bin/tracer clear
