package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	cfg, err := Load(filepath.Join(dir, "missing.toml"))
	if err != nil || cfg.TimelineLimit != 10 || len(cfg.Keys) != 0 {
		t.Fatalf("defaults: %+v, %v", cfg, err)
	}
	path := filepath.Join(dir, "config.toml")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("timeline_limit = 5\n[keys]\n\"contacts.new-dm\" = [\"ctrl+n\"]\n")
	cfg, err = Load(path)
	if err != nil || cfg.TimelineLimit != 5 || !slices.Equal(cfg.Keys["contacts.new-dm"], []string{"ctrl+n"}) {
		t.Fatalf("user file: %+v, %v", cfg, err)
	}
	for bad, want := range map[string]string{
		"timeline_limit = \"x\"":                    "config.toml",
		"colour = 3":                                "unknown setting",
		"timeline_limit = 0":                        "between 1 and 100",
		"[profile.work]\ncolor = \"red\"":           "profile.work.color",
		"[profile.work]\ncolor = \"#12345\"":        "profile.work.color",
		"[profile.work]\ntag = \"a very long tag\"": "longer than 12",
	} {
		write(bad)
		if _, err := Load(path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error containing %q", bad, err, want)
		}
	}
}

func TestLoadProfiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	data := "profiles = [\"home\", \"work\"]\n[profile.work]\ntag = \"W\"\ncolor = \"#d7875f\"\n[profile.home]\ncolor = \"33\"\n"
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Profiles, []string{"home", "work"}) || cfg.Profile["work"] != (ProfileLook{Tag: "W", Color: "#d7875f"}) || cfg.Profile["home"].Color != "33" {
		t.Fatalf("%+v", cfg)
	}
}
