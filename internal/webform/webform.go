// Package webform reads HTML forms the way a browser would submit them:
// each form's action and the values of its named inputs (a checkbox or
// radio only when checked; <button>s are left to the caller, who picks the
// one it clicks; an <input type=submit> is read like any input). The chaos probes and the bridge's integration tests drive the
// server-rendered pages through it.
package webform

import (
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// Form is one HTML form.
type Form struct {
	Action string
	Fields url.Values
}

// Parse returns every form on page, in document order. An input before
// the first form is ignored; one after a form's end is read into the last
// form opened (the parser does not track where a form ends).
func Parse(page string) ([]Form, error) {
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		return nil, err
	}
	var forms []Form
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			attr := map[string]string{}
			checked := false
			for _, a := range n.Attr {
				attr[a.Key] = a.Val
				if a.Key == "checked" {
					checked = true
				}
			}
			cur := len(forms) - 1
			switch {
			case n.Data == "form":
				forms = append(forms, Form{Action: attr["action"], Fields: url.Values{}})
			case n.Data == "input" && cur >= 0 && attr["name"] != "":
				if (attr["type"] != "checkbox" && attr["type"] != "radio") || checked {
					forms[cur].Fields.Add(attr["name"], attr["value"])
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return forms, nil
}

// With returns the first form on page that has an input named field.
func With(page, field string) (Form, error) {
	forms, err := Parse(page)
	if err != nil {
		return Form{}, err
	}
	for _, f := range forms {
		if _, ok := f.Fields[field]; ok {
			return f, nil
		}
	}
	return Form{}, fmt.Errorf("no form with %s on the page", field)
}
