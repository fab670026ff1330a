package demo

import (
	"context"
	"fmt"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// workSeeder writes the history of the demo user's work account: a DM with Dana, read and then
// encrypted (her responder answers there), a DM with Erin whose last message waits unread, and
// a DM with Alice's work account, so that Alice is in both accounts' lists.
type workSeeder struct {
	you, dana, erin, alice *person
	clock
}

func (s *workSeeder) seed(ctx context.Context) (WorkRooms, error) {
	var rooms WorkRooms
	var err error
	if rooms.Dana, err = s.seedDana(ctx); err != nil {
		return rooms, err
	}
	if rooms.Erin, err = s.seedErin(ctx); err != nil {
		return rooms, err
	}
	if rooms.Alice, err = s.seedAlice(ctx); err != nil {
		return rooms, err
	}
	return rooms, nil
}

// dm has from create a DM with to at created, both list it in m.direct, and to join at joined.
func dm(ctx context.Context, from, to *person, created, joined time.Time) (id.RoomID, error) {
	room, err := from.createDM(ctx, created, to.id)
	if err != nil {
		return "", err
	}
	if err := from.addDirect(ctx, room, to.id); err != nil { // R11
		return "", err
	}
	if err := to.join(ctx, room, joined); err != nil {
		return "", err
	}
	if err := to.addDirect(ctx, room, from.id); err != nil { // R16
		return "", err
	}
	return room, nil
}

// seedDana: Dana, the demo user's onboarding buddy, starts a DM two days ago. The demo user has
// read everything she wrote. Then she turns on encryption, as Element does for new DMs, and from
// then on her responder answers, encrypted.
func (s *workSeeder) seedDana(ctx context.Context) (id.RoomID, error) {
	you, dana := s.you, s.dana
	room, err := dm(ctx, dana, you, s.day(2, 9, 40), s.day(2, 9, 41))
	if err != nil {
		return "", err
	}
	said, err := talkIDs(ctx, room, []line{
		{dana, s.day(2, 9, 42), "Morning! Welcome to the team 👋 I'm Dana, your onboarding buddy this week."},
		{you, s.day(2, 9, 45), "Thanks Dana! Where do I find the staging credentials?"},
		{dana, s.day(2, 9, 47), `In the team vault, under "staging". Ping me if the VPN gives you trouble, it usually does on day one.`},
		{you, s.day(1, 14, 10), "My deploy checklist:\n" +
			"1. tag the release\n" +
			"2. run the migrations on staging\n" +
			"3. smoke test\n" +
			"4. announce in #releases\n" +
			"Did I miss anything?"},
		{dana, s.day(1, 14, 18), "Step 2½: tell support before the migrations, they get nervous 😅 Otherwise perfect."},
		{you, s.ago(25 * time.Minute), "Release is tagged. Starting the migrations on staging now."},
		{dana, s.ago(22 * time.Minute), "Great, I'll keep an eye on the dashboards."},
	}, map[int]int{4: 3}) // step 2½ answers the checklist
	if err != nil {
		return "", err
	}
	if err := you.read(ctx, room, said[len(said)-1], true); err != nil {
		return "", err
	}
	if _, err := dana.cli.SendStateEvent(ctx, room, event.StateEncryption, "",
		&event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1}); err != nil {
		return "", fmt.Errorf("turn on encryption: %w", err)
	}
	return room, nil
}

// seedErin: the demo user asked Erin about a flaky test yesterday; a few minutes ago she asked
// for a review. That message is unread.
func (s *workSeeder) seedErin(ctx context.Context) (id.RoomID, error) {
	you, erin := s.you, s.erin
	room, err := dm(ctx, you, erin, s.day(1, 11, 0), s.day(1, 11, 14))
	if err != nil {
		return "", err
	}
	said, err := talkIDs(ctx, room, []line{
		{you, s.day(1, 11, 2), "Hi Erin, Dana says you're the one to ask about the flaky integration test?"},
		{erin, s.day(1, 11, 15), "Guilty 🙋 It's a race in the cache warm-up. I have a fix in progress."},
	}, nil)
	if err != nil {
		return "", err
	}
	// The demo user read that and answered; only what Erin writes afterwards is unread.
	if err := you.read(ctx, room, said[1], true); err != nil {
		return "", err
	}
	if err := talk(ctx, room, []line{
		{you, s.day(1, 11, 16), "Amazing, thank you!"},
		{erin, s.ago(6 * time.Minute), "The fix is up for review: could you take a look before standup tomorrow? It's small, I promise."},
	}); err != nil {
		return "", err
	}
	return room, nil
}

// seedAlice: Alice, who also has a work account on this server, wrote to the wrong account this
// morning.
func (s *workSeeder) seedAlice(ctx context.Context) (id.RoomID, error) {
	you, alice := s.you, s.alice
	room, err := dm(ctx, alice, you, s.ago(3*time.Hour), s.ago(3*time.Hour-time.Minute))
	if err != nil {
		return "", err
	}
	if err := talk(ctx, room, []line{
		{alice, s.ago(3*time.Hour - 2*time.Minute), "Oops, this is your work account, isn't it? I meant to send the picnic photos to the other one 🙈"},
		{you, s.ago(2*time.Hour + 50*time.Minute), "Ha, yes! Send them there, I'll look tonight."},
	}); err != nil {
		return "", err
	}
	return room, nil
}
