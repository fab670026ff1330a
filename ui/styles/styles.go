// Package styles holds the one Styles value the UI is drawn with. It is built from a Theme for
// the terminal at hand and passed down to every component; no component keeps style variables
// of its own.
package styles

import (
	"image/color"
	"os"
	"reflect"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"
)

// Adaptive is a colour for a dark and for a light background (ANSI 256 numbers).
type Adaptive struct{ Light, Dark string }

// Theme is the palette. Every colour is adaptive so that the UI reads on dark and light
// terminals alike.
type Theme struct {
	Text      Adaptive
	Muted     Adaptive
	Accent    Adaptive
	Own       Adaptive // own messages and name
	Other     Adaptive // the other person's name
	Error     Adaptive
	Warn      Adaptive
	Good      Adaptive
	SelectedF Adaptive
	SelectedB Adaptive
	BadgeF    Adaptive
	BadgeB    Adaptive
	Border    Adaptive
}

// palette is a Theme with its colours picked for the terminal's background.
type palette struct {
	Text, Muted, Accent, Own, Other, Error, Warn, Good color.Color
	SelectedF, SelectedB, BadgeF, BadgeB, Border       color.Color
}

func (t Theme) pick(light bool) palette {
	c := func(a Adaptive) color.Color {
		if light {
			return lipgloss.Color(a.Light)
		}
		return lipgloss.Color(a.Dark)
	}
	return palette{Text: c(t.Text), Muted: c(t.Muted), Accent: c(t.Accent), Own: c(t.Own), Other: c(t.Other),
		Error: c(t.Error), Warn: c(t.Warn), Good: c(t.Good), SelectedF: c(t.SelectedF), SelectedB: c(t.SelectedB),
		BadgeF: c(t.BadgeF), BadgeB: c(t.BadgeB), Border: c(t.Border)}
}

// Terminal is what the styles are drawn for: the terminal's colour profile and whether its
// background is light. Lip Gloss v2 styles always write their colours and the renderer brings
// them down to the profile; the profile here decides what duet draws differently without
// colour (no styling at all, marks in text instead) and how pictures are drawn.
type Terminal struct {
	Profile colorprofile.Profile
	Light   bool
}

// Plain reports whether the terminal shows no styling: no colours, and then duet drops bold,
// italics and underlines too, and marks in text what colour would show.
func (t Terminal) Plain() bool { return t.Profile <= colorprofile.ASCII }

// current is what Default and New draw for until SetTerminal says otherwise: the colour
// profile of standard output as its environment describes it (plain when it is not a
// terminal: a test), on a dark background.
var current = Terminal{Profile: colorprofile.Detect(os.Stdout, os.Environ())}

// SetTerminal sets the terminal that New and Default draw for (duet sets it once at start, from
// the terminal; tests set a plain profile).
func SetTerminal(t Terminal) { current = t }

// Current is the terminal New and Default draw for.
func Current() Terminal { return current }

// DefaultTheme is the built-in palette.
func DefaultTheme() Theme {
	return Theme{
		Text:      Adaptive{Light: "235", Dark: "252"},
		Muted:     Adaptive{Light: "243", Dark: "245"},
		Accent:    Adaptive{Light: "25", Dark: "75"},
		Own:       Adaptive{Light: "28", Dark: "114"},
		Other:     Adaptive{Light: "92", Dark: "177"},
		Error:     Adaptive{Light: "160", Dark: "203"},
		Warn:      Adaptive{Light: "130", Dark: "214"},
		Good:      Adaptive{Light: "28", Dark: "114"},
		SelectedF: Adaptive{Light: "232", Dark: "255"},
		SelectedB: Adaptive{Light: "153", Dark: "24"},
		BadgeF:    Adaptive{Light: "255", Dark: "232"},
		BadgeB:    Adaptive{Light: "25", Dark: "75"},
		Border:    Adaptive{Light: "250", Dark: "238"},
	}
}

// Contacts styles the contacts pane.
type Contacts struct {
	Terminal Terminal // what they are drawn for

	Title    lipgloss.Style
	TitleOn  lipgloss.Style // the pane has focus
	Section  lipgloss.Style
	Name     lipgloss.Style
	Preview  lipgloss.Style
	Time     lipgloss.Style
	Badge    lipgloss.Style
	Pending  lipgloss.Style
	Selected lipgloss.Style // the whole selected row
	Filter   lipgloss.Style
	Empty    lipgloss.Style
}

// Conversation styles the timeline.
type Conversation struct {
	Terminal Terminal // what they are drawn for

	Time     lipgloss.Style
	Own      lipgloss.Style // own name
	Other    lipgloss.Style // other senders' names
	Body     lipgloss.Style
	OwnBody  lipgloss.Style
	Notice   lipgloss.Style // undecryptable, m.notice
	Trust    lipgloss.Style // a warning about the sender's device
	Day      lipgloss.Style
	Marked   lipgloss.Style // the time of the message a search led to
	Sending  lipgloss.Style
	Sent     lipgloss.Style
	Failed   lipgloss.Style
	Loading  lipgloss.Style
	NewBelow lipgloss.Style

	// Formatted messages (HTML).
	Strong  lipgloss.Style
	Emph    lipgloss.Style
	Strike  lipgloss.Style
	Under   lipgloss.Style
	Code    lipgloss.Style // inline code and code blocks
	Link    lipgloss.Style
	Mention lipgloss.Style // a user pill
	Quote   lipgloss.Style // the bar before quoted lines

	Selected     lipgloss.Style // the time of the message picked in the timeline, and its bar
	Reply        lipgloss.Style // the line quoting what a reply answers
	Reaction     lipgloss.Style // a reaction under a message
	ReactionMine lipgloss.Style // a reaction we are among
	Unread       lipgloss.Style // the line above the first message not read yet
}

// Status styles the status bar.
type Status struct {
	Terminal Terminal // what they are drawn for

	Bar     lipgloss.Style
	Live    lipgloss.Style
	Offline lipgloss.Style
	Waiting lipgloss.Style
	Error   lipgloss.Style
	Ask     lipgloss.Style // a question (y to confirm)
	Info    lipgloss.Style
	Hint    lipgloss.Style
	HintKey lipgloss.Style // the keys in the hint
}

// Switcher styles the quick switcher (ctrl+k).
type Switcher struct {
	Terminal Terminal // what they are drawn for

	Border   lipgloss.Style // the box
	Title    lipgloss.Style // the title in the box's top edge
	Prompt   lipgloss.Style // the query's prompt
	Name     lipgloss.Style
	Match    lipgloss.Style // the characters of a name or user ID the query matched
	UserID   lipgloss.Style
	Detail   lipgloss.Style // "3 members", on the right
	Invite   lipgloss.Style // the detail of a pending invite
	Heading  lipgloss.Style // "from the server's directory"
	Note     lipgloss.Style // searching…, no match, why the directory failed
	Selected lipgloss.Style // the whole selected row
}

// Search styles the message search dialog.
type Search struct {
	Terminal Terminal // what they are drawn for

	Border   lipgloss.Style // the box
	Title    lipgloss.Style // the title in the box's top edge: where it searches
	Prompt   lipgloss.Style // the query's prompt
	Status   lipgloss.Style // "12 messages", searching…, no messages match
	Hint     lipgloss.Style // the scope key's hint
	Warning  lipgloss.Style // why the search failed
	Name     lipgloss.Style // the conversation of a result
	Time     lipgloss.Style
	Snippet  lipgloss.Style
	Match    lipgloss.Style // the matched words in a snippet
	Selected lipgloss.Style // the whole selected result
}

// Styles is everything the UI draws with.
type Styles struct {
	Terminal Terminal // what they are drawn for

	Contacts     Contacts
	Conversation Conversation
	Status       Status
	Switcher     Switcher
	Search       Search

	Separator  lipgloss.Style // pane borders
	Header     lipgloss.Style // conversation header: name
	HeaderID   lipgloss.Style
	HeaderOn   lipgloss.Style // header name when the composer has focus
	Encrypted  lipgloss.Style
	Plain      lipgloss.Style
	Verified   lipgloss.Style // the person's devices are verified
	Unverified lipgloss.Style // not verified (yet): dim, not alarming
	Warning    lipgloss.Style // a verified person has a new, unverified device
	Dialog     lipgloss.Style // the border of the encryption dialogs
	Secret     lipgloss.Style // the recovery key, shown once
	Prompt     lipgloss.Style // the composer's and forms' prompts
	Label      lipgloss.Style
	Error      lipgloss.Style
	Muted      lipgloss.Style
	Title      lipgloss.Style
}

// New builds Styles from a theme for the current terminal (SetTerminal).
func New(t Theme) Styles { return For(t, current) }

// For builds Styles from a theme for a terminal. For one that shows no styling every style is
// plain, so that what is drawn carries no escape sequence at all.
func For(th Theme, term Terminal) Styles {
	t := th.pick(term.Light)
	base := lipgloss.NewStyle()
	muted := base.Foreground(t.Muted)
	s := Styles{
		Terminal:     term,
		Contacts:     newContacts(t),
		Conversation: newConversation(t),
		Status:       newStatus(t),
		Switcher:     newSwitcher(t),
		Search:       newSearch(t),
		Separator:    base.Foreground(t.Border),
		Header:       base.Bold(true).Foreground(t.Text),
		HeaderID:     muted,
		HeaderOn:     base.Bold(true).Foreground(t.Accent),
		Encrypted:    base.Foreground(t.Good),
		Plain:        base.Foreground(t.Warn),
		Verified:     base.Foreground(t.Good),
		Unverified:   muted,
		Warning:      base.Foreground(t.Warn).Bold(true),
		Dialog:       base.Foreground(t.Accent),
		Secret:       base.Foreground(t.Text).Bold(true),
		Prompt:       base.Foreground(t.Accent).Bold(true),
		Label:        base.Bold(true),
		Error:        base.Foreground(t.Error),
		Muted:        muted,
		Title:        base.Bold(true).Foreground(t.Accent),
	}
	s.Contacts.Terminal, s.Conversation.Terminal, s.Status.Terminal = term, term, term
	s.Switcher.Terminal, s.Search.Terminal = term, term
	if term.Plain() {
		plain(reflect.ValueOf(&s).Elem())
	}
	return s
}

// plain makes every style in v (a struct, and the structs in it) a style without properties.
func plain(v reflect.Value) {
	styleType := reflect.TypeFor[lipgloss.Style]()
	for i := range v.NumField() {
		f := v.Field(i)
		switch {
		case f.Type() == styleType:
			f.Set(reflect.ValueOf(lipgloss.NewStyle()))
		case f.Kind() == reflect.Struct:
			plain(f)
		}
	}
}

// newContacts is the styles of the contacts list.
func newContacts(t palette) Contacts {
	base := lipgloss.NewStyle()
	muted := base.Foreground(t.Muted)
	return Contacts{
		Title:    base.Bold(true).Foreground(t.Muted),
		TitleOn:  base.Bold(true).Foreground(t.Accent),
		Section:  muted.Bold(true),
		Name:     base.Foreground(t.Text).Bold(true),
		Preview:  muted,
		Time:     muted,
		Badge:    base.Foreground(t.BadgeF).Background(t.BadgeB).Bold(true),
		Pending:  base.Foreground(t.Warn).Bold(true),
		Selected: base.Foreground(t.SelectedF).Background(t.SelectedB),
		Filter:   base.Foreground(t.Accent),
		Empty:    muted.Italic(true),
	}
}

// newConversation is the styles of the conversation pane.
func newConversation(t palette) Conversation {
	base := lipgloss.NewStyle()
	muted := base.Foreground(t.Muted)
	return Conversation{
		Time:     muted,
		Own:      base.Foreground(t.Own).Bold(true),
		Other:    base.Foreground(t.Other).Bold(true),
		Body:     base.Foreground(t.Text),
		OwnBody:  base.Foreground(t.Own),
		Notice:   muted.Italic(true),
		Trust:    base.Foreground(t.Warn),
		Day:      muted,
		Marked:   muted.Reverse(true),
		Sending:  muted.Italic(true),
		Sent:     base.Foreground(t.Good),
		Failed:   base.Foreground(t.Error).Bold(true),
		Loading:  base.Foreground(t.Accent).Italic(true),
		NewBelow: base.Foreground(t.BadgeF).Background(t.BadgeB),
		Strong:   base.Bold(true),
		Emph:     base.Italic(true),
		Strike:   base.Strikethrough(true),
		Under:    base.Underline(true),
		Code:     base.Foreground(t.Accent),
		Link:     base.Foreground(t.Accent).Underline(true),
		Mention:  base.Foreground(t.Other).Bold(true),
		Quote:    muted,

		Selected:     base.Foreground(t.SelectedF).Background(t.SelectedB).Bold(true),
		Reply:        muted,
		Reaction:     muted,
		ReactionMine: base.Foreground(t.Accent),
		Unread:       base.Foreground(t.Error),
	}
}

// newStatus is the styles of the status bar.
func newStatus(t palette) Status {
	base := lipgloss.NewStyle()
	muted := base.Foreground(t.Muted)
	return Status{
		Bar:     base,
		Live:    base.Foreground(t.Good),
		Offline: base.Foreground(t.Error).Bold(true),
		Waiting: base.Foreground(t.Warn),
		Error:   base.Foreground(t.Error),
		Ask:     base.Foreground(t.Error).Bold(true),
		Info:    base.Foreground(t.Accent),
		Hint:    muted,
		HintKey: muted.Bold(true),
	}
}

// newSwitcher is the styles of the switcher.
func newSwitcher(t palette) Switcher {
	base := lipgloss.NewStyle()
	muted := base.Foreground(t.Muted)
	return Switcher{
		Border:   base.Foreground(t.Accent),
		Title:    base.Bold(true).Foreground(t.Accent),
		Prompt:   base.Foreground(t.Accent).Bold(true),
		Name:     base.Foreground(t.Text),
		Match:    base.Foreground(t.Accent).Bold(true).Underline(true),
		UserID:   muted,
		Detail:   muted,
		Invite:   base.Foreground(t.Warn).Bold(true),
		Heading:  muted.Bold(true),
		Note:     muted.Italic(true),
		Selected: base.Foreground(t.SelectedF).Background(t.SelectedB),
	}
}

// newSearch is the styles of the search dialog.
func newSearch(t palette) Search {
	base := lipgloss.NewStyle()
	muted := base.Foreground(t.Muted)
	return Search{
		Border:   base.Foreground(t.Accent),
		Title:    base.Bold(true).Foreground(t.Accent),
		Prompt:   base.Foreground(t.Accent).Bold(true),
		Status:   muted,
		Hint:     muted,
		Warning:  base.Foreground(t.Warn).Bold(true),
		Name:     base.Foreground(t.Text).Bold(true),
		Time:     muted,
		Snippet:  base.Foreground(t.Text),
		Match:    base.Foreground(t.Accent).Bold(true),
		Selected: base.Foreground(t.SelectedF).Background(t.SelectedB),
	}
}

// Default is New(DefaultTheme()).
func Default() Styles { return New(DefaultTheme()) }
