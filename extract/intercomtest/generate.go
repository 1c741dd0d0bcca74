package intercomtest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// Epoch is the fixed "now" of every generated workspace (2026-06-30T00:00:00Z): conversations are spread
// over the History before it. It is not time.Now so that a seed always produces the same bytes.
const Epoch int64 = 1782777600

// History is how far back, in seconds, generated conversations start (about two years).
const History int64 = 730 * 86400

const (
	// WaitingSinceNever is the far-future waiting_since (year 4018) that means "not waiting".
	WaitingSinceNever int64 = 64654125776
	// PartsCap is how many parts, the newest, GET /conversations/{id} returns.
	PartsCap = 500
	// LongConversationParts is the part count of LongConversationID, more than PartsCap.
	LongConversationParts = 650
	// TwitterNotice replaces subjects and bodies of Twitter conversations.
	TwitterNotice = "We've removed this part of the conversation to comply with Twitter's terms and conditions. You can view the complete conversation in Intercom."
	// DeletedMessageBody is the body of a part whose message was deleted (redacted).
	DeletedMessageBody = "<p><i>This message was deleted</i></p>"
)

// Conversation i has id idBase+i: ten digits like real ids, increasing with creation time as real ones do.
const idBase = 1_900_000_000

// partTypes lists every part_type the API guide names, then values it does not know, because clients
// must keep part_type as an open set.
var partTypes = []string{
	"comment", "note", "note_and_reopen", "assignment", "open", "close", "away_mode_assignment",
	"participant_added", "participant_removed", "conversation_rating_changed",
	"conversation_rating_remark_added", "snoozed", "unsnoozed", "assign_and_unsnooze", "timer_unsnooze",
	"note_and_unsnooze", "workflow_assignment", "default_assignment", "assign_and_reopen", "quick_reply",
	"custom_action_started", "custom_action_finished", "conversation_attribute_updated_by_user",
	"conversation_attribute_updated_by_admin", "conversation_attribute_updated_by_workflow",
	"conversation_sla_applied_by_rule", "conversation_sla_applied_by_workflow", "conversation_sla_removed",
	"conversation_sla_target_missed", "user_became_idle", "priority_changed", "priority_changed_by_rule",
	"resolution_bot_found_no_answer", "conversation_tags_updated", "attribute_collector",
	"attribute_collected", "language_detection_details", "merged_primary_conversation", "call_summary",
	"operator_workflow_event",
	"future_part_type_x", "future_part_type_y",
}

var (
	admins = []Author{
		{"admin", "814860", "Jane Doe", "jane@example.com"},
		{"admin", "814861", "José Álvarez", "jose@example.com"},
		{"admin", "814862", "李小龙", "li@example.cn"},
		{"admin", "814863", "Zoë O'Brien", "zoe@example.ie"},
		{"admin", "814864", "محمد علي", "m.ali@example.ae"},
		{"admin", "814865", "Ólafur \"Oli\" Jónsson", "olafur@example.is"},
	}
	teams = []Author{
		{"team", "5017691", "Support", ""},
		{"team", "5017692", "Billing", ""},
		{"team", "5017693", "Tier 2 🛠", ""},
	}
	bots = []Author{
		{"bot", "815309", "Operator", "operator+abc@intercom.io"},
		fin,
	}
	fin           = Author{"bot", "815310", "Fin", ""}
	customerNames = []string{
		"Alice Martin", "Bob", "Chloé Dubois", "田中 太郎", "Ахмед", "Emily O'Neil", "Фёдор",
		"דנה כהן", "Zoë 🌸", "", "Mr. \"Quotes\" McGee", "Ngọc Anh",
	}
	tagVocabulary = []Tag{
		{ID: "7522907", Name: "VIP"},
		{ID: "7522908", Name: "bug"},
		{ID: "7522909", Name: "billing"},
		{ID: "7522910", Name: "Feature request ✨"},
		{ID: "7522911", Name: "回访"},
		{ID: "7522912", Name: "churn-risk"},
		{ID: "7522913", Name: `"quoted" tag`},
	}
	bodies = []string{
		"<p>Hi there 👋 how can we help?</p>",
		"<p>Hi Jane, it's all great thanks!</p>",
		"<p>My order #4521 hasn't arrived. Can you check?</p>",
		"<p>「注文が届きません」— 日本語のメッセージです。</p>",
		"<p>我的账户无法登录，请帮忙。</p>",
		`<p dir="rtl">مرحبا، لدي مشكلة في الفاتورة</p>`,
		`<p dir="rtl">שלום, יש לי שאלה לגבי המנוי</p>`,
		"<p>He said \"it's ‘fine’\" &amp; left 🤷\u200d♀️</p>",
		"<p>Line one<br>Line two</p>\n\n<p>Line three</p>",
		`<p>Steps:</p><ol><li>Open <b>Settings</b></li><li>Click <a href="https://example.com/help?a=1&amp;b=2">here</a></li></ol>`,
		"<pre><code>{\"error\": \"timeout\"}\n\tat line 3</code></pre>",
		"<p>Thanks!! 🙏🏽🎉</p>",
		"<p>Ça marche très bien, merci beaucoup — à bientôt.</p>",
		"<p>Zero\u200bwidth space, combining e\u0301, a backslash \\ and a bell \u0007.</p>",
		"<p></p>",
		"<p>Hi Alice,</p>\n\n<p> We noticed you using our Product,  do you have any questions?</p> \n<p>- Jane</p>",
	}
	slaNames       = []string{"First response in 1h", "VIP: resolve in 8h", "Standard – 24h ⏱"}
	aiSourceTypes  = []string{"workflow", "workflow", "profile", "essentials_plan_setup", "workflow_preview", "fin_preview"}
	aiSourceTitles = []string{"Fin over chat", "Fin – billing “refunds”", "Fin über E-Mail"}
	subjects       = []string{"", "Re: Invoice #1234", "Question about “pricing”", "注文について", "Fwd: <urgent> & important"}
	titles         = []string{"Refund request", "Can't log in 🔒", "Billing question: “annual plan”", "配送の遅れ", "Bug report"}
	remarks        = []string{"Great support, thanks!", "Too slow 😞", "Très bien", "素晴らしい", "ok", ""}
	// Message types of the API guide, weighted towards the common ones; "" is a null source.type.
	messageTypes = []string{
		"conversation", "conversation", "conversation", "conversation", "conversation", "conversation",
		"email", "email", "email", "push", "facebook", "twitter", "instagram", "phone_call", "sms",
		"whatsapp", "",
	}
	deliveries = []string{
		"customer_initiated", "customer_initiated", "customer_initiated", "customer_initiated",
		"customer_initiated", "admin_initiated", "automated", "campaigns_initiated", "operator_initiated",
	}
)

// Part types that move the conversation to someone, and so carry assigned_to.
var assigningPartTypes = map[string]bool{
	"assignment": true, "away_mode_assignment": true, "workflow_assignment": true,
	"default_assignment": true, "assign_and_reopen": true, "assign_and_unsnooze": true,
}

// Part types whose body is written text rather than an event with a null body.
var textPartTypes = map[string]bool{
	"comment": true, "note": true, "note_and_reopen": true, "note_and_unsnooze": true,
	"quick_reply": true, "call_summary": true,
}

// PartTypes returns every part_type the generator emits: those the API guide names, then unknown ones.
func PartTypes() []string { return slices.Clone(partTypes) }

// rng is a PRNG with the draws the generator needs.
type rng struct{ *rand.Rand }

func newRNG(seed int64, stream uint64) rng {
	return rng{rand.New(rand.NewPCG(uint64(seed), stream))}
}

func (r rng) chance(p float64) bool { return r.Float64() < p }

func (r rng) between(lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	return lo + r.Int64N(hi-lo+1)
}

func (r rng) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[r.IntN(len(digits))]
	}
	return string(b)
}

func pick[T any](r rng, s []T) T { return s[r.IntN(len(s))] }

// generator builds conversation i of a workspace from (seed, i) alone.
type generator struct {
	seed int64
	n    int
}

func (g generator) id(i int) string { return strconv.FormatInt(idBase+int64(i), 10) }

// index returns the generated index of id, if id is one.
func (g generator) index(id string) (int, bool) {
	v, err := strconv.ParseInt(id, 10, 64)
	if err != nil || v < idBase || v >= idBase+int64(g.n) || strconv.FormatInt(v, 10) != id {
		return 0, false
	}
	return int(v - idBase), true
}

// stamps returns conversation i's created_at and updated_at. They are the first draws of the
// conversation's stream, so listing and searching need not generate whole conversations.
func (g generator) stamps(r rng, i int) (created, updated int64) {
	slot := History / int64(max(g.n, 1))
	// Creation times grow with i (plus jitter within its slot) so ids grow with time, as in Intercom.
	created = Epoch - History + int64(i)*slot + r.Int64N(slot+1)
	var life int64
	switch u := r.Float64(); {
	case u < 0.5:
		life = r.between(60, 2*86400)
	case u < 0.9:
		life = r.between(3600, 30*86400)
	default:
		life = r.between(86400, 200*86400)
	}
	return created, min(created+life, Epoch)
}

func (g generator) stream(i int) rng { return newRNG(g.seed, uint64(i)) }

func (g generator) entry(i int) entry {
	created, updated := g.stamps(g.stream(i), i)
	return entry{id: g.id(i), created: created, updated: updated}
}

func (g generator) conversation(i int) Conversation {
	r := g.stream(i)
	c := Conversation{ID: g.id(i)}
	c.CreatedAt, c.UpdatedAt = g.stamps(r, i)

	c.Contacts = make([]Contact, 1+weighted(r, 0.85, 0.10))
	for k := range c.Contacts {
		c.Contacts[k] = Contact{Type: "user", ID: r.hex(24)}
		if r.chance(0.3) {
			c.Contacts[k].Type = "lead"
		}
		if r.chance(0.5) {
			c.Contacts[k].ExternalID = fmt.Sprintf("cust_%d", r.IntN(100000))
		}
	}
	customer := customerAuthor(r, c.Contacts[0])
	// A conversation involves a few teammates, not the whole team.
	var staff []Author
	for _, k := range r.Perm(len(admins))[:1+weighted(r, 0.5, 0.35)] {
		staff = append(staff, admins[k])
	}

	c.Message = g.message(r, i, customer, staff)
	twitter := c.Message.Type == "twitter"
	if twitter {
		customer.Name, customer.Email = "", ""
	}

	nparts := 1 + r.IntN(27) // 1..27, about 14 on average
	if g.n >= 3 && i == 0 {
		nparts = LongConversationParts
	} else if g.n >= 3 && i == 1 {
		nparts = PartsCap
	}
	c.Parts = g.parts(r, &c, nparts, customer, staff, twitter)

	switch u := r.Float64(); {
	case u < 0.08:
		c.State, c.Open = "snoozed", true
		until := c.UpdatedAt + r.between(3600, 7*86400)
		c.SnoozedUntil = &until
	case u < 0.58:
		c.State = "closed"
	default:
		c.State, c.Open = "open", true
	}
	c.Read = r.chance(0.8)
	switch u := r.Float64(); {
	case u < 0.25:
		c.WaitingSince = ptr(WaitingSinceNever)
	case u < 0.5:
		// nil, as real data also has
	case u < 0.6:
		c.WaitingSince = ptr(int64(0))
	default:
		c.WaitingSince = ptr(r.between(c.CreatedAt, c.UpdatedAt))
	}
	if r.chance(0.65) {
		c.AdminAssigneeID = pick(r, staff).ID
	}
	if r.chance(0.4) {
		c.TeamAssigneeID = pick(r, teams).ID
	}

	if c.Message.DeliveredAs == "customer_initiated" {
		typ := c.Message.Type
		if typ == "" {
			typ = "conversation"
		}
		c.FirstContactReply = &FirstContactReply{CreatedAt: c.CreatedAt, Type: typ, URL: c.Message.URL}
	} else if r.chance(0.5) {
		c.FirstContactReply = &FirstContactReply{CreatedAt: r.between(c.CreatedAt, c.UpdatedAt), Type: "conversation"}
	}

	for _, k := range r.Perm(len(tagVocabulary))[:r.IntN(4)] {
		t := tagVocabulary[k]
		t.AppliedAt = r.between(c.CreatedAt, c.UpdatedAt)
		t.AppliedBy = pick(r, staff)
		c.Tags = append(c.Tags, t)
	}

	if r.chance(0.3) {
		rt := &Rating{CreatedAt: r.between(c.CreatedAt, c.UpdatedAt), Customer: customer, Teammate: pick(r, staff)}
		switch u := r.Float64(); {
		case u < 0.2: // a remark only
			rt.Remark = ptr(pick(r, remarks))
		case u < 0.4: // a rating only
			rt.Rating = ptr(1 + r.IntN(5))
		default:
			rt.Rating = ptr(1 + r.IntN(5))
			rt.Remark = ptr(pick(r, remarks))
		}
		c.Rating = rt
	}

	if r.chance(0.3) {
		c.Title = pick(r, titles)
	}
	c.Priority = "not_priority"
	if r.chance(0.1) {
		c.Priority = "priority"
	}
	c.CustomAttributes = map[string]any{}
	if r.chance(0.8) {
		c.CustomAttributes["Language"] = pick(r, []string{"en", "fr", "日本語"})
		c.CustomAttributes["Order value"] = float64(r.IntN(100000)) / 100
		c.CustomAttributes["VIP"] = r.chance(0.1)
		c.CustomAttributes["Plan"] = nil
	}

	for _, p := range c.Parts {
		if p.Author.Type == "admin" && !slices.Contains(c.Teammates, p.Author.ID) {
			c.Teammates = append(c.Teammates, p.Author.ID)
		}
	}
	g.newerFields(i, &c)
	return c
}

// newerFields fills what later API versions added (SLA, AI agent, part state). It draws from a stream
// of its own so that adding it left every other generated value, and so the older fields' output, as
// it was.
func (g generator) newerFields(i int, c *Conversation) {
	r := newRNG(g.seed, uint64(i)|1<<62)
	if r.chance(0.2) {
		c.SLA = &SLA{Name: pick(r, slaNames), Status: pick(r, []string{"hit", "hit", "missed", "cancelled", "active"})}
	}
	if r.chance(0.25) {
		c.AIAgentParticipated = true
		a := &AIAgent{SourceType: pick(r, aiSourceTypes), SourceTitle: pick(r, aiSourceTitles)}
		if a.SourceType == "essentials_plan_setup" {
			a.SourceTitle = "" // null, as the API documents for this source
		}
		if r.chance(0.85) {
			a.LastAnswerType = pick(r, []string{"ai_answer", "ai_answer", "custom_answer"})
			a.ResolutionState = pick(r, []string{"assumed_resolution", "confirmed_resolution", "routed_to_team", "abandoned"})
			if r.chance(0.4) {
				a.Rating = ptr(1 + r.IntN(5))
				if r.chance(0.5) {
					a.RatingRemark = pick(r, remarks)
				}
			}
		}
		c.AIAgent = a
	}
	state := "open"
	for k := range c.Parts {
		p := &c.Parts[k]
		switch {
		case p.PartType == "close":
			state = "closed"
		case p.PartType == "snoozed":
			state = "snoozed"
		case p.PartType == "open" || strings.Contains(p.PartType, "reopen") || strings.Contains(p.PartType, "unsnooze"):
			state = "open"
		}
		p.State = state
		if c.AIAgentParticipated && p.Author.Type == "bot" {
			p.FromAIAgent = true
			p.IsAIAnswer = p.PartType == "comment" && p.Author.ID == fin.ID
		}
	}
}

func (g generator) message(r rng, i int, customer Author, staff []Author) Message {
	m := Message{
		Type:        pick(r, messageTypes),
		ID:          strconv.Itoa(300_000_000 + i),
		DeliveredAs: pick(r, deliveries),
		Body:        body(r),
	}
	if m.Type == "" {
		m.DeliveredAs = "admin_initiated" // null source.type: an admin-started AI conversation
	}
	if m.DeliveredAs == "customer_initiated" {
		m.Author = customer
	} else if r.chance(0.7) {
		m.Author = pick(r, staff)
	} else {
		m.Author = pick(r, bots)
	}
	switch m.Type {
	case "email":
		m.Subject = pick(r, subjects)
	case "conversation":
		m.URL = fmt.Sprintf("https://app.example.com/pricing?ref=%s&utm=ü", r.hex(6))
	case "twitter":
		m.Subject, m.Body = TwitterNotice, TwitterNotice
		m.Author.Name, m.Author.Email = "", ""
	}
	if r.chance(0.1) {
		m.Attachments = []Attachment{attachment(r)}
	}
	m.Redacted = r.chance(0.01)
	return m
}

// parts returns n parts with increasing created_at between the conversation's creation and update.
func (g generator) parts(r rng, c *Conversation, n int, customer Author, staff []Author, twitter bool) []Part {
	times := make([]int64, n)
	for k := range times {
		times[k] = r.between(c.CreatedAt+1, c.UpdatedAt)
	}
	slices.Sort(times)
	if r.chance(0.02) {
		// Imported history: the first parts predate the conversation itself.
		for k := range min(n, 1+r.IntN(2)) {
			times[k] = c.CreatedAt - r.between(86400, 30*86400)
		}
		slices.Sort(times)
	}

	convID, _ := strconv.ParseInt(c.ID, 10, 64)
	parts := make([]Part, n)
	for k := range parts {
		p := Part{
			// Part ids are numeric and unique in the workspace, like Intercom's.
			ID:         strconv.FormatInt(convID*1000+int64(k), 10),
			PartType:   partType(r),
			CreatedAt:  times[k],
			UpdatedAt:  times[k],
			NotifiedAt: times[k],
		}
		if r.chance(0.05) {
			p.UpdatedAt += r.between(1, 3600) // edited later
		}
		p.Author = partAuthor(r, p.PartType, customer, staff)
		switch {
		case textPartTypes[p.PartType]:
			p.Body = body(r)
			p.NotifiedAt += r.Int64N(120)
		case assigningPartTypes[p.PartType] && r.chance(0.3):
			p.Body = body(r) // an assignment with a note
		default:
			p.BodyNull = true
		}
		if assigningPartTypes[p.PartType] {
			p.AssignedTo = assignee(r)
		}
		if p.PartType == "comment" {
			switch {
			case twitter && p.Author.ID == customer.ID:
				p.Body = TwitterNotice
			case r.chance(0.03):
				p.Body, p.Redacted = DeletedMessageBody, true
			case r.chance(0.06):
				p.Attachments = []Attachment{attachment(r)}
			}
			if r.chance(0.05) {
				p.ExternalID = "ext-" + r.hex(12)
			}
		}
		parts[k] = p
	}
	return parts
}

func partType(r rng) string {
	switch u := r.Float64(); {
	case u < 0.5:
		return "comment"
	case u < 0.62:
		return "note"
	default:
		return pick(r, partTypes[2:])
	}
}

func partAuthor(r rng, partType string, customer Author, staff []Author) Author {
	switch {
	case partType == "comment" && r.chance(0.5):
		if r.chance(0.1) {
			customer.Type = "contact"
		}
		return customer
	case strings.Contains(partType, "workflow") || strings.HasSuffix(partType, "_by_rule") ||
		partType == "resolution_bot_found_no_answer":
		return pick(r, bots)
	case partType == "user_became_idle" || strings.HasSuffix(partType, "_by_user"):
		return customer
	}
	switch u := r.Float64(); {
	case u < 0.8:
		return pick(r, staff)
	case u < 0.9:
		return pick(r, bots)
	default:
		return pick(r, teams)
	}
}

func customerAuthor(r rng, c Contact) Author {
	name := pick(r, customerNames)
	email := ""
	if c.Type == "user" || r.chance(0.3) {
		email = fmt.Sprintf("%s@example.org", c.ID[:8])
	}
	return Author{Type: c.Type, ID: c.ID, Name: name, Email: email}
}

func assignee(r rng) *Assignee {
	switch u := r.Float64(); {
	case u < 0.6:
		return &Assignee{Type: "admin", ID: pick(r, admins).ID}
	case u < 0.85:
		return &Assignee{Type: "team", ID: pick(r, teams).ID}
	case u < 0.9:
		return &Assignee{Type: "bot", ID: pick(r, bots).ID}
	default:
		return &Assignee{Type: "nobody_admin"}
	}
}

func attachment(r rng) Attachment {
	a := Attachment{Type: "upload", Filesize: r.Int64N(5 << 20)}
	if r.chance(0.6) {
		a.Name, a.ContentType = "screenshot "+r.hex(4)+".png", "image/png"
		a.Width, a.Height = 200+r.Int64N(2000), 200+r.Int64N(1500)
	} else {
		a.Name, a.ContentType = "facture_№"+r.hex(4)+".pdf", "application/pdf"
	}
	a.URL = fmt.Sprintf("https://downloads.intercomcdn.com/i/o/%d/%s/%s", r.IntN(1e9), r.hex(20), a.Name)
	return a
}

func body(r rng) string {
	if r.chance(0.01) {
		// Long bodies exist too: pasted logs and email threads.
		return strings.Repeat(pick(r, bodies), 40+r.IntN(80))
	}
	return pick(r, bodies)
}

// weighted returns k with probability p[k], or len(p) with the remaining probability.
func weighted(r rng, p ...float64) int {
	u := r.Float64()
	for k, pk := range p {
		if u < pk {
			return k
		}
		u -= pk
	}
	return len(p)
}

func ptr[T any](v T) *T { return &v }
