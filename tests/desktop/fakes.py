"""A :class:`desktop.dialogs.Dialogs` for tests: answers as the test says, records what was asked."""


class FakeDialogs:
    def __init__(self, *, confirm=True, export=None, files=(), folder=""):
        self.parent = None
        self.answer = confirm
        self.export_choice = export
        self.files = list(files)
        self.folder = folder
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

    def open_files(self, title, folder, filters):
        self.asked.append(("open_files", title, folder))
        return list(self.files)

    def open_folder(self, title, folder):
        self.asked.append(("open_folder", title, folder))
        return self.folder

    def ask_export(self, folder, selected, *, can_selected):
        self.asked.append(("export", folder, selected))
        return self.export_choice

    def show_folder(self, path):
        self.shown.append(path)

    def kinds(self):
        return [kind for kind, *_ in self.asked]
