"""Authoring: turning what an admin writes (in the browser, in an upload, in an Anki
package) into card files in exactly the format a contributor would commit."""
