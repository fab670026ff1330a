# duet's everyday tasks. Integration tests run a real Dendrite on loopback; `make homeserver`
# builds it into .bin/ (the first build takes minutes, later ones are skipped when current).

GO   ?= go
TAGS := goolm

.PHONY: build homeserver demo test vet fmt bench

build:
	$(GO) build -tags $(TAGS) -o duet .

homeserver:
	$(GO) run ./internal/homeserver/cmd/prepare

# duet against a throwaway local homeserver with three people; quitting removes it all.
demo: build homeserver
	./duet demo

test: homeserver
	$(GO) test -tags $(TAGS) -race -count=1 -timeout 30m ./...

vet:
	$(GO) vet -tags $(TAGS) ./...

# Fails listing the files gofmt would change (tools/ is a separate module and left out).
fmt:
	@out="$$(find . \( -path ./tools -o -path ./.git -o -path ./.bin \) -prune -o -name '*.go' -type f -exec gofmt -l {} +)"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

bench:
	$(GO) test -tags $(TAGS) -run '^$$' -bench . -benchmem ./...
