package transform

import "encoding/json"

// The list wrappers and assigned_to: values the API sends in more than one shape.

// tagList is `{"type":"tag.list","tags":[...]}`, or the bare array some responses carry.
type tagList struct {
	tags   []rawTag
	object bool // the list came wrapped, so its elements live at tags.tags
}

func (l *tagList) UnmarshalJSON(b []byte) error {
	switch b[0] {
	case 'n':
		l.tags, l.object = nil, false
		return nil
	case '[':
		l.object = false
		return json.Unmarshal(b, &l.tags)
	case '{':
		var obj struct {
			Tags []rawTag `json:"tags"`
		}
		err := json.Unmarshal(b, &obj)
		l.tags, l.object = obj.Tags, true
		return err
	}
	return typeError[tagList](b)
}

// contactList is `{"type":"contact.list","contacts":[...]}`, or the bare array older 2.x versions send.
type contactList struct {
	contacts []rawContact
	sent     bool // an object or array came, even an empty one: the column is then [] rather than NULL
}

func (l *contactList) UnmarshalJSON(b []byte) error {
	*l = contactList{}
	switch b[0] {
	case 'n':
		return nil
	case '[':
		l.sent = true
		return json.Unmarshal(b, &l.contacts)
	case '{':
		var obj struct {
			Contacts []rawContact `json:"contacts"`
		}
		err := json.Unmarshal(b, &obj)
		l.contacts, l.sent = obj.Contacts, true
		return err
	}
	return typeError[contactList](b)
}

// teammateList is `{"type":"admin.list","admins":[...]}`. The spec names the inner list `teammates`
// while real responses say `admins`, so both are read; a bare array is accepted like contacts.
type teammateList struct {
	admins []rawActor
	sent   bool
}

func (l *teammateList) UnmarshalJSON(b []byte) error {
	*l = teammateList{}
	switch b[0] {
	case 'n':
		return nil
	case '[':
		l.sent = true
		return json.Unmarshal(b, &l.admins)
	case '{':
		var obj struct {
			Admins    []rawActor `json:"admins"`
			Teammates []rawActor `json:"teammates"`
		}
		err := json.Unmarshal(b, &obj)
		l.admins, l.sent = obj.Admins, true
		if l.admins == nil {
			l.admins = obj.Teammates
		}
		return err
	}
	return typeError[teammateList](b)
}

// assignedTo is a part's assignment target: `{type, id}` in 2.x, a plain id in 1.x, null when the
// part changed no assignment.
type assignedTo struct {
	rawActor
}

func (a *assignedTo) UnmarshalJSON(b []byte) error {
	a.rawActor = rawActor{}
	switch b[0] {
	case 'n':
		return nil
	case '{':
		return json.Unmarshal(b, &a.rawActor)
	case '"':
		return a.ID.UnmarshalJSON(b)
	}
	if !isInteger(b) {
		return typeError[assignedTo](b)
	}
	return a.ID.UnmarshalJSON(b)
}
