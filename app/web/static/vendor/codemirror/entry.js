// Backprop's editor bundle: CodeMirror 6 with Python highlighting, Tab indentation and
// a submit key (Ctrl/Cmd+Enter), or read-only. Exposes window.BackpropEditor.create(parent, options).
import { EditorView, basicSetup } from "codemirror";
import { keymap } from "@codemirror/view";
import { indentWithTab } from "@codemirror/commands";
import { python } from "@codemirror/lang-python";
import { EditorState } from "@codemirror/state";

function create(parent, { doc = "", onSubmit = () => {}, onChange = () => {}, readOnly = false } = {}) {
  const submit = keymap.of([{ key: "Mod-Enter", run: () => { onSubmit(); return true; } }]);
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc,
      extensions: [
        submit,
        basicSetup,
        keymap.of([indentWithTab]),
        python(),
        EditorView.updateListener.of((u) => { if (u.docChanged) onChange(u.state.doc.toString()); }),
        // Read-only: highlighted and selectable, never edited (a demo's shared source).
        ...(readOnly ? [EditorState.readOnly.of(true), EditorView.editable.of(false)] : []),
      ],
    }),
  });
  return {
    view,
    getValue: () => view.state.doc.toString(),
    setValue: (text) => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } }),
    focus: () => view.focus(),
  };
}

window.BackpropEditor = { create };
