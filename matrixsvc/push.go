package matrixsvc

import (
	"context"
	"encoding/json"
	"errors"
	"slices"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
	"maunium.net/go/mautrix/pushrules"

	"duet/store"
)

// Which new messages notify: the account's push rules (m.push_rules account data), evaluated
// here on the client as the spec asks for encrypted rooms, whose content the server cannot see.

// pushState is the parsed m.push_rules, parsed once and again only when the account data
// changes. Only the sync uses it (under syncMu).
type pushState struct {
	loaded bool                   // rules is what the store holds
	rules  *pushrules.PushRuleset // nil: no push rules seen, every message notifies
}

// setPushRules takes new m.push_rules content from a sync.
func (s *Service) setPushRules(content []byte) {
	rules, err := parsePushRules(content, s.me)
	if err != nil {
		s.log.Warn().Err(err).Msg("could not read the push rules; every new message notifies")
	}
	s.push = pushState{loaded: true, rules: rules}
}

// pushRules returns the parsed push rules, reading the stored ones on first use after a start.
func (s *Service) pushRules(ctx context.Context) *pushrules.PushRuleset {
	if !s.push.loaded {
		content, err := s.store.AccountData(ctx, event.AccountDataPushRules.Type)
		if err != nil {
			s.log.Warn().Err(err).Msg("could not load the push rules")
			return nil // asked again for the next message
		}
		s.setPushRules(content)
	}
	return s.push.rules
}

// parsePushRules reads m.push_rules content ({"global": ruleset}); nil content is no rules. The
// mention rules that newer servers have and older ones lack are added (withMentionRules).
func parsePushRules(content []byte, me id.UserID) (*pushrules.PushRuleset, error) {
	if len(content) == 0 {
		return nil, nil
	}
	var c pushrules.EventContent
	if err := json.Unmarshal(content, &c); err != nil {
		return nil, err
	}
	if c.Ruleset == nil {
		return nil, errors.New(`m.push_rules has no "global" rules`)
	}
	withMentionRules(c.Ruleset, me)
	return c.Ruleset, nil
}

// Server-default rule IDs (spec, "Predefined rules").
const (
	ruleIsUserMention = ".m.rule.is_user_mention"
	ruleIsRoomMention = ".m.rule.is_room_mention"
)

// withMentionRules adds the server-default override rules for intentional mentions
// (m.mentions, Matrix 1.7) when the server's ruleset lacks them, at the place the spec gives
// them. Dendrite 0.13 has only the older rules that look for our name in the body, and those
// stand aside for any message that has m.mentions: without these rules a mention by user ID
// would never highlight. A server's own (or a disabled) rule of the same ID is left as it is.
func withMentionRules(rs *pushrules.PushRuleset, me id.UserID) {
	notify := &pushrules.PushAction{Action: pushrules.ActionNotify}
	sound := &pushrules.PushAction{Action: pushrules.ActionSetTweak, Tweak: pushrules.TweakSound, Value: "default"}
	highlight := &pushrules.PushAction{Action: pushrules.ActionSetTweak, Tweak: pushrules.TweakHighlight, Value: true}
	if !hasRule(rs.Override, ruleIsUserMention) {
		rs.Override = insertRule(rs.Override, &pushrules.PushRule{
			Type: pushrules.OverrideRule, RuleID: ruleIsUserMention, Default: true, Enabled: true,
			Conditions: []*pushrules.PushCondition{{
				Kind: pushrules.KindEventPropertyContains, Key: `content.m\.mentions.user_ids`, Value: me.String(),
			}},
			Actions: pushrules.PushActionArray{notify, sound, highlight},
		}, ".m.rule.contains_display_name", ".m.rule.is_room_mention", ".m.rule.roomnotif", ".m.rule.tombstone",
			".m.rule.reaction", ".m.rule.room.server_acl", ".m.rule.suppress_edits")
	}
	if !hasRule(rs.Override, ruleIsRoomMention) {
		rs.Override = insertRule(rs.Override, &pushrules.PushRule{
			Type: pushrules.OverrideRule, RuleID: ruleIsRoomMention, Default: true, Enabled: true,
			Conditions: []*pushrules.PushCondition{
				{Kind: pushrules.KindEventPropertyIs, Key: `content.m\.mentions.room`, Value: true},
				{Kind: pushrules.KindSenderNotificationPermission, Key: "room"},
			},
			Actions: pushrules.PushActionArray{notify, highlight},
		}, ".m.rule.roomnotif", ".m.rule.tombstone", ".m.rule.reaction", ".m.rule.room.server_acl", ".m.rule.suppress_edits")
	}
}

func hasRule(rules pushrules.PushRuleArray, ruleID string) bool {
	return slices.ContainsFunc(rules, func(r *pushrules.PushRule) bool { return r.RuleID == ruleID })
}

// insertRule puts rule before the first of the rules named in before that is there, else last.
func insertRule(rules pushrules.PushRuleArray, rule *pushrules.PushRule, before ...string) pushrules.PushRuleArray {
	i := slices.IndexFunc(rules, func(r *pushrules.PushRule) bool { return slices.Contains(before, r.RuleID) })
	if i < 0 {
		i = len(rules)
	}
	return slices.Insert(rules, i, rule)
}

// pushActions sets msg.Notify and msg.Highlight from the push rules for evt, the event the
// message was read from (decrypted, for an encrypted one). r is the room as this sync left it.
func (s *Service) pushActions(ctx context.Context, r *store.Room, evt *event.Event, msg *Message) {
	room := &pushRoom{ctx: ctx, state: s.store.State, id: r.ID, me: s.me, joined: r.JoinedCount}
	msg.Notify, msg.Highlight = pushDecision(s.pushRules(ctx), room, evt)
}

// pushDecision is what the rules say about evt in room. No rules at all notify (the servers'
// defaults notify for messages in DMs) without a highlight.
func pushDecision(rules *pushrules.PushRuleset, room pushrules.Room, evt *event.Event) (notify, highlight bool) {
	if rules == nil {
		return true, false
	}
	if evt.Content.Raw == nil && len(evt.Content.VeryRaw) > 0 {
		_ = json.Unmarshal(evt.Content.VeryRaw, &evt.Content.Raw) // the conditions read Raw
	}
	should := rules.GetActions(room, evt).Should()
	return should.Notify, should.Highlight
}

// pushRoom answers the push rules' questions about a room (pushrules.Room and
// PowerLevelfulRoom) from mautrix's state store, only when a rule asks.
type pushRoom struct {
	ctx    context.Context // the sync's: the interface's methods take none
	state  *store.StateStore
	id     id.RoomID
	me     id.UserID
	joined int // from the room summary; 0 when the server never sent one
}

func (p *pushRoom) GetOwnDisplayname() string {
	m, err := p.state.TryGetMember(p.ctx, p.id, p.me)
	if err != nil || m == nil {
		return ""
	}
	return m.Displayname
}

// GetMemberCount is the number of joined members. The summary has it even when members are
// lazy-loaded; the state store's list is the fallback.
func (p *pushRoom) GetMemberCount() int {
	if p.joined > 0 {
		return p.joined
	}
	members, err := p.state.GetRoomMembers(p.ctx, p.id, event.MembershipJoin)
	if err != nil {
		return 0
	}
	return len(members)
}

func (p *pushRoom) GetPowerLevels() *event.PowerLevelsEventContent {
	pl, err := p.state.GetPowerLevels(p.ctx, p.id)
	if err != nil {
		return nil
	}
	return pl
}
