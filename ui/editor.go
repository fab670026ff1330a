package ui

import (
	"errors"

	tea "charm.land/bubbletea/v2"

	"duet/internal/editor"
)

// editorDoneMsg is the end of an edit in the user's editor: the session to finish and what
// running the editor returned.
type editorDoneMsg struct {
	session *editor.Session
	err     error
}

// openEditor hands the composer's draft (a new message, or the text of the message being
// edited) to $VISUAL/$EDITOR. Bubble Tea suspends the screen while the editor runs and
// draws it again after.
func (m *Model) openEditor() tea.Cmd {
	s, err := editor.Start(editor.Command(m.opts.Getenv), m.composer.Value())
	if err != nil {
		m.status.SetError("Editor: " + err.Error() + "; the draft is as it was")
		return nil
	}
	return tea.ExecProcess(s.Cmd, func(err error) tea.Msg { return editorDoneMsg{s, err} })
}

// editorDone makes what was saved the draft, ready to send; nothing is sent. An empty file,
// a non-zero exit or an editor that did not start leave the draft as it was, and say why.
func (m *Model) editorDone(msg editorDoneMsg) {
	text, err := msg.session.Finish(msg.err)
	switch {
	case errors.Is(err, editor.ErrEmpty):
		m.status.SetInfo("Editor: the file was empty; the draft is as it was")
	case err != nil:
		m.status.SetError("Editor: " + err.Error() + "; the draft is as it was")
	default:
		m.composer.SetValue(text)
	}
}
