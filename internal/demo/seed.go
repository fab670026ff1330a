package demo

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// seeder writes the demo's history on the first server. Times are local wall-clock times on
// the two days before today, plus a few minutes before now, so that a timeline shows day
// separators.
type seeder struct {
	you, alice, bob, carol *person
	clock
}

// clock places seeded events in time, relative to now.
type clock struct{ now time.Time }

// line is one message of a scripted conversation.
type line struct {
	from *person
	at   time.Time
	text string
}

// day returns hh:mm local time, daysAgo days before today.
func (c clock) day(daysAgo, hh, mm int) time.Time {
	y, m, d := c.now.Date()
	return time.Date(y, m, d-daysAgo, hh, mm, 0, 0, c.now.Location())
}

// ago returns the time d before now.
func (c clock) ago(d time.Duration) time.Time { return c.now.Add(-d) }

func (s *seeder) seed(ctx context.Context) (Rooms, error) {
	var rooms Rooms
	var err error
	if rooms.Alice, err = s.seedAlice(ctx); err != nil {
		return rooms, err
	}
	if rooms.Bob, err = s.seedBob(ctx); err != nil {
		return rooms, err
	}
	if rooms.BobNext, err = s.seedBobUpgrade(ctx, rooms.Bob); err != nil {
		return rooms, err
	}
	if rooms.Group, err = s.seedGroup(ctx); err != nil {
		return rooms, err
	}
	if rooms.Carol, err = s.seedCarol(ctx); err != nil {
		return rooms, err
	}
	return rooms, nil
}

// talk sends the lines in order and waits until the last one is visible to clients.
func talk(ctx context.Context, room id.RoomID, lines []line) error {
	_, err := talkIDs(ctx, room, lines, nil)
	return err
}

// talkIDs is talk, returning the lines' event IDs; replies[i] = j makes line i answer line j.
func talkIDs(ctx context.Context, room id.RoomID, lines []line, replies map[int]int) ([]id.EventID, error) {
	var ids []id.EventID
	var lastFrom *person
	for i, l := range lines {
		var ev id.EventID
		var err error
		if j, ok := replies[i]; ok && j < len(ids) {
			ev, err = l.from.replyTo(ctx, room, l.at, ids[j], l.text)
		} else {
			ev, err = l.from.say(ctx, room, l.at, l.text)
		}
		if err != nil {
			return ids, err
		}
		ids, lastFrom = append(ids, ev), l.from
	}
	if lastFrom == nil {
		return ids, nil
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return ids, lastFrom.waitVisible(wctx, room, ids[len(ids)-1])
}

// seedAlice: Alice starts a DM with You two days ago; they chat over three days, including
// one long message and one multi-line message. Both m.direct lists name the room.
func (s *seeder) seedAlice(ctx context.Context) (id.RoomID, error) {
	you, alice := s.you, s.alice
	room, err := alice.createDM(ctx, s.day(2, 18, 55), you.id)
	if err != nil {
		return "", err
	}
	if err := alice.addDirect(ctx, room, you.id); err != nil {
		return "", err
	}
	if err := you.join(ctx, room, s.day(2, 18, 58)); err != nil {
		return "", err
	}
	if err := you.addDirect(ctx, room, alice.id); err != nil { // R16
		return "", err
	}
	said, err := talkIDs(ctx, room, []line{
		{alice, s.day(2, 19, 2), "Hey! Did you get home okay after the meetup?"},
		{you, s.day(2, 19, 10), "Yes, thanks! The train was packed though."},
		{alice, s.day(2, 19, 12), "Ugh, the 8:15 is always like that. By the way, I finally finished the book " +
			"you lent me. The bit where the narrator realises the whole town has been living the same " +
			"Tuesday over and over, and nobody but the cat seems to notice, completely got me: I read " +
			"the last fifty pages standing in the kitchen because I couldn't put it down long enough to sit."},
		{you, s.day(2, 19, 20), "Ha! I told you the cat was the real hero."},
		{alice, s.day(1, 9, 14), "Shopping list for Saturday's picnic:\n" +
			"- bread and cheese\n" +
			"- strawberries\n" +
			"- lemonade (the fizzy kind)\n" +
			"- a blanket that isn't covered in dog hair"},
		{you, s.day(1, 9, 30), "I'll bring the lemonade and the blanket. The dog-hair-free one, promise."},
		{alice, s.day(1, 9, 31), "Perfect 🙂"},
		{you, s.ago(15 * time.Minute), "Running ten minutes late, save me a seat?"},
		{alice, s.ago(14 * time.Minute), "Always. Tea or coffee?"},
	}, map[int]int{6: 5}) // "Perfect" answers the lemonade and the blanket
	if err != nil {
		return "", err
	}
	// Reactions, from each side: Alice likes the cat line, You the book story.
	if err := alice.react(ctx, room, s.day(2, 19, 21), said[3], "😂"); err != nil {
		return "", err
	}
	if err := you.react(ctx, room, s.day(2, 19, 22), said[2], "📚"); err != nil {
		return "", err
	}
	// Then Alice turns on encryption, as Element does for new DMs: what is said from now on is
	// end-to-end encrypted, her answers included.
	if _, err := alice.cli.SendStateEvent(ctx, room, event.StateEncryption, "",
		&event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1}); err != nil {
		return "", fmt.Errorf("turn on encryption: %w", err)
	}
	return room, nil
}

// seedBob: You start a DM with Bob yesterday; Bob joins and answers.
func (s *seeder) seedBob(ctx context.Context) (id.RoomID, error) {
	you, bob := s.you, s.bob
	room, err := you.createDM(ctx, s.day(1, 12, 3), bob.id)
	if err != nil {
		return "", err
	}
	if err := you.addDirect(ctx, room, bob.id); err != nil { // R11
		return "", err
	}
	if _, err := you.say(ctx, room, s.day(1, 12, 4), "Hi Bob, could you take a look at the shelf in the hallway when you have a minute? It wobbles."); err != nil {
		return "", err
	}
	if err := bob.join(ctx, room, s.day(1, 12, 20)); err != nil {
		return "", err
	}
	if err := bob.addDirect(ctx, room, you.id); err != nil { // R16
		return "", err
	}
	said, err := talkIDs(ctx, room, []line{
		{bob, s.day(1, 12, 21), "Can we fix it? Yes we can! Does Saturday morning work for you?"},
		{you, s.day(1, 12, 25), "Saturday morning is great, thanks!"},
	}, nil)
	if err != nil {
		return room, err
	}
	// Bob answers in a thread, as Element does: the thread on our message, with the reply
	// fallback for clients without threads.
	ev, err := bob.inThread(ctx, room, s.day(1, 12, 27), said[1], said[1], "Around ten, then. I'll text when I'm outside.")
	if err != nil {
		return room, err
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return room, bob.waitVisible(wctx, room, ev)
}

// seedBobUpgrade: Bob upgrades his DM with You (as Element's /upgrade does) and invites You to
// the new room, where he goes on. You do not join here: duet follows the upgrade when it
// starts (R23), and shows both rooms as one conversation (R22).
func (s *seeder) seedBobUpgrade(ctx context.Context, old id.RoomID) (id.RoomID, error) {
	you, bob := s.you, s.bob
	var resp struct {
		Replacement id.RoomID `json:"replacement_room"`
	}
	u := bob.cli.BuildClientURL("v3", "rooms", old, "upgrade")
	if _, err := bob.cli.MakeRequest(ctx, http.MethodPost, u, map[string]string{"new_version": "10"}, &resp); err != nil {
		return "", fmt.Errorf("%s upgrades %s: %w", bob.id, old, err)
	}
	if _, err := bob.cli.InviteUser(ctx, resp.Replacement, &mautrix.ReqInviteUser{UserID: you.id}); err != nil {
		return "", fmt.Errorf("%s invites %s to the upgraded room: %w", bob.id, you.id, err)
	}
	// The server made the new room just now, and nothing in it can be older: Bob speaks right
	// after, so his last message is where the contacts list puts him.
	now := time.Now()
	if err := talk(ctx, resp.Replacement, []line{
		{bob, now, "I moved our chat to a newer room version; everything from before is still here."},
		{bob, now.Add(time.Second), "Bringing my drill on Saturday. Anything else that wobbles?"},
	}); err != nil {
		return resp.Replacement, err
	}
	// A photo of the shelf, to show files and pictures.
	pic, w, h := shelfPicture()
	ev, err := bob.sendImage(ctx, resp.Replacement, now.Add(2*time.Second), "shelf.png", pic, w, h)
	if err != nil {
		return resp.Replacement, err
	}
	// And a sticker, as Element sends one from its sticker picker.
	drill, dw, dh := drillSticker()
	if ev, err = bob.sendSticker(ctx, resp.Replacement, now.Add(3*time.Second), "🔧 Drill time!", drill, dw, dh); err != nil {
		return resp.Replacement, err
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return resp.Replacement, bob.waitVisible(wctx, resp.Replacement, ev)
}

// drillSticker draws the sticker Bob sends: a drill on a transparent ground.
func drillSticker() ([]byte, int, int) {
	const w, h = 48, 48
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			switch {
			case x >= 8 && x < 32 && y >= 12 && y < 24:
				img.Set(x, y, color.RGBA{R: 230, G: 160, B: 30, A: 255}) // the body
			case x >= 32 && x < 44 && y >= 16 && y < 20:
				img.Set(x, y, color.RGBA{R: 150, G: 150, B: 160, A: 255}) // the bit
			case x >= 14 && x < 22 && y >= 24 && y < 42:
				img.Set(x, y, color.RGBA{R: 40, G: 40, B: 45, A: 255}) // the grip
			}
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img) // an in-memory image always encodes
	return b.Bytes(), w, h
}

// shelfPicture draws the wobbly shelf Bob sends a photo of: a wall, three planks, a vase.
func shelfPicture() ([]byte, int, int) {
	const w, h = 96, 64
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{R: 226, G: 214, B: 190, A: 255} // the wall
			switch {
			case (y >= 18 && y < 22 || y >= 38 && y < 42 || y >= 58 && y < 62) && x >= 10 && x < 86:
				c = color.RGBA{R: 128, G: 84, B: 44, A: 255} // planks
			case (x >= 10 && x < 13 || x >= 83 && x < 86) && y >= 14:
				c = color.RGBA{R: 100, G: 64, B: 34, A: 255} // sides
			case x >= 40 && x < 52 && y >= 26 && y < 38:
				c = color.RGBA{R: 60, G: 120, B: 200, A: 255} // a vase
			case x >= 44 && x < 48 && y >= 8 && y < 26:
				c = color.RGBA{R: 70, G: 160, B: 80, A: 255} // its flower's stem
			case x >= 41 && x < 51 && y >= 2 && y < 8:
				c = color.RGBA{R: 230, G: 80, B: 120, A: 255} // the flower
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img) // an in-memory image always encodes
	return b.Bytes(), w, h
}

// seedGroup: Bob starts a "direct" room with You and Alice yesterday evening. It is a group DM
// (R2): You list it under both Bob and Alice, and so do the others under their two partners.
func (s *seeder) seedGroup(ctx context.Context) (id.RoomID, error) {
	you, alice, bob := s.you, s.alice, s.bob
	room, err := bob.createDM(ctx, s.day(1, 17, 40), you.id, alice.id)
	if err != nil {
		return "", err
	}
	if err := bob.addDirect(ctx, room, you.id, alice.id); err != nil {
		return "", err
	}
	if err := alice.join(ctx, room, s.day(1, 17, 41)); err != nil {
		return "", err
	}
	if err := alice.addDirect(ctx, room, bob.id, you.id); err != nil {
		return "", err
	}
	if err := you.join(ctx, room, s.day(1, 17, 43)); err != nil {
		return "", err
	}
	if err := you.addDirect(ctx, room, bob.id, alice.id); err != nil {
		return "", err
	}
	if err := talk(ctx, room, []line{
		{bob, s.day(1, 17, 44), "Picnic planning! Who's bringing what on Saturday?"},
		{alice, s.day(1, 17, 46), "Strawberries and bread from me."},
		{you, s.day(1, 17, 47), "Lemonade and the blanket."},
		{bob, s.day(1, 17, 52), "I'll bring the folding table. Built it myself, naturally."},
		{alice, s.day(1, 17, 53), "Of course you did 😄"},
	}); err != nil {
		return room, err
	}
	// Alice asks a poll, in the form Element sends today, and Bob votes in it.
	poll, err := alice.askPoll(ctx, room, s.day(1, 17, 55), "Where shall we have the picnic?",
		[]string{"The park by the river", "The beach", "Alice's garden"})
	if err != nil {
		return room, err
	}
	ev, err := bob.vote(ctx, room, s.day(1, 17, 58), poll, "2")
	if err != nil {
		return room, err
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return room, bob.waitVisible(wctx, room, ev)
}

// seedCarol: Carol, whom You have never talked to, sends a direct invite a little while ago
// and writes one message. You do not join, so it stays a pending request (R4, R24); only
// Carol's m.direct names the room.
func (s *seeder) seedCarol(ctx context.Context) (id.RoomID, error) {
	you, carol := s.you, s.carol
	room, err := carol.createDM(ctx, s.ago(40*time.Minute), you.id)
	if err != nil {
		return "", err
	}
	if err := carol.addDirect(ctx, room, you.id); err != nil {
		return "", err
	}
	if err := talk(ctx, room, []line{
		{carol, s.ago(39 * time.Minute), "Hi! Are you the one who left a green scarf at the book club last week? I think I have it."},
	}); err != nil {
		return "", fmt.Errorf("carol's message: %w", err)
	}
	return room, nil
}
