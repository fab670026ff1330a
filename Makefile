# duet's everyday tasks. Integration tests run a real Dendrite on loopback; `make homeserver`
# builds it into .bin/ (the first build takes minutes, later ones are skipped when current).

GO   ?= go
TAGS := goolm

.PHONY: build homeserver demo test fuzz vet fmt bench man install uninstall

build:
	$(GO) build -buildvcs=auto -tags $(TAGS) -o duet .

# The man pages, duet.1 and duet-COMMAND.1, into man/, made from the command definitions;
# duet.1 also here, for `man ./duet.1`.
man:
	$(GO) run -tags $(TAGS) ./internal/cli/mangen man
	cp man/duet.1 duet.1

# make install PREFIX=~/.local: the binary, the man pages and the bash, zsh and fish
# completion scripts where each shell looks for them under PREFIX (zsh: add
# $(PREFIX)/share/zsh/site-functions to fpath when PREFIX is not a system one).
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
MANDIR      ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d

install: build man
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 755 duet $(DESTDIR)$(BINDIR)/duet
	install -m 644 man/*.1 $(DESTDIR)$(MANDIR)/man1/
	./duet completion bash > $(DESTDIR)$(BASHCOMPDIR)/duet
	./duet completion zsh > $(DESTDIR)$(ZSHCOMPDIR)/_duet
	./duet completion fish > $(DESTDIR)$(FISHCOMPDIR)/duet.fish

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/duet $(DESTDIR)$(MANDIR)/man1/duet.1 $(DESTDIR)$(MANDIR)/man1/duet-*.1
	rm -f $(DESTDIR)$(BASHCOMPDIR)/duet $(DESTDIR)$(ZSHCOMPDIR)/_duet $(DESTDIR)$(FISHCOMPDIR)/duet.fish

homeserver:
	$(GO) run ./internal/homeserver/cmd/prepare

# duet against a throwaway local homeserver with three people; quitting removes it all.
demo: build homeserver
	./duet demo

test: homeserver
	$(GO) test -tags $(TAGS) -race -count=1 -timeout 30m ./...

# Fuzz each target for FUZZTIME (-fuzz takes one target per package per run). A failing input
# is written to the package's testdata/fuzz/; commit it once fixed and `make test` replays it.
# .ci/fuzz passes over Go 1.26's end-of-run deadline race, which writes no input.
FUZZTIME ?= 10s
FUZZ     := .ci/fuzz $(FUZZTIME)

fuzz:
	$(FUZZ) FuzzText ./internal/sanitize
	$(FUZZ) FuzzHTML ./internal/sanitize
	$(FUZZ) FuzzWriter ./internal/sanitize
	$(FUZZ) FuzzJSON ./internal/sanitize
	$(FUZZ) FuzzOutput ./internal/cli
	$(FUZZ) FuzzRender ./ui/conversation
	$(FUZZ) FuzzFormatted ./ui/conversation
	$(FUZZ) FuzzView ./ui/contacts
	$(FUZZ) FuzzDialog ./ui/security
	$(FUZZ) FuzzScreen ./ui
	$(FUZZ) FuzzDirect ./matrixsvc/dmfuzz
	$(FUZZ) FuzzDMRules ./matrixsvc/dmfuzz
	$(FUZZ) FuzzIgnored ./matrixsvc/dmfuzz
	$(FUZZ) FuzzQuery ./store
	$(FUZZ) FuzzView ./ui/search
	$(FUZZ) FuzzView ./ui/switcher

vet:
	$(GO) vet -tags $(TAGS) ./...

# Fails listing the files gofmt would change (tools/ is a separate module and left out).
fmt:
	@out="$$(find . \( -path ./tools -o -path ./.git -o -path ./.bin \) -prune -o -name '*.go' -type f -exec gofmt -l {} +)"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

bench:
	$(GO) test -tags $(TAGS) -run '^$$' -bench . -benchmem ./...
