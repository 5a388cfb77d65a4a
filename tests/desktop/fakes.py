"""A :class:`desktop.dialogs.Dialogs` for tests: answers as the test says, records what was asked."""


class FakeDialogs:
    def __init__(self, *, confirm=True, export=None, files=(), folder="", texts=(), choices=(), save_as=""):
        self.parent = None
        self.texts = list(texts)      # answers of ask_text, in order (None: cancelled)
        self.choices = list(choices)  # answers of choose: an option's text, or None (cancelled)
        self.answer = confirm
        self.export_choice = export
        self.files = list(files)
        self.folder = folder
        self.save_as = save_as        # the answer of save_file ("" : cancelled)
        self.asked = []   # (kind, title, text)
        self.shown = []   # folders opened in the file manager

    def confirm(self, title, text):
        self.asked.append(("confirm", title, text))
        return self.answer

    def inform(self, title, text):
        self.asked.append(("inform", title, text))

    def warn(self, title, text):
        self.asked.append(("warn", title, text))

    def about(self, title, html):
        self.asked.append(("about", title, html))

    def ask_text(self, title, label, text=""):
        self.asked.append(("ask_text", title, label))
        return self.texts.pop(0) if self.texts else None

    def choose(self, title, label, options):
        self.asked.append(("choose", title, label))
        answer = self.choices.pop(0) if self.choices else None
        return None if answer is None else options.index(answer)

    def open_files(self, title, folder, filters):
        self.asked.append(("open_files", title, folder))
        return list(self.files)

    def open_folder(self, title, folder):
        self.asked.append(("open_folder", title, folder))
        return self.folder

    def open_file(self, title, folder, filters):
        self.asked.append(("open_file", title, folder))
        return self.files.pop(0) if self.files else ""

    def save_file(self, title, path, filters):
        self.asked.append(("save_file", title, path))
        return self.save_as

    def ask_note(self, title, label, text=""):
        self.asked.append(("ask_note", title, text))
        return self.texts.pop(0) if self.texts else None

    def ask_export(self, folder, selected, *, can_selected):
        self.asked.append(("export", folder, selected))
        return self.export_choice

    def show_folder(self, path):
        self.shown.append(path)

    def kinds(self):
        return [kind for kind, *_ in self.asked]
