[# Phi Tray's additions to pynsist's installer template (pyapp.nsi, which this extends). #]
[% extends "pyapp.nsi" %]

[% block ui_pages %]
[# Per user only (build.py sets MULTIUSER_EXECUTIONLEVEL Standard): no "for all users?" page. #]
!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
[% endblock ui_pages %]

[% block sections %]
; Before any file goes: a running agent (and its model host) holds files open.
Section "-un.Stop the agent"
  nsExec::Exec '"$INSTDIR\Python\python.exe" -m phitray stop'
SectionEnd

[[ super() ]]

; After the program: what the agent itself wrote outside its folder.
Section "-un.Forget the agent"
  ; Start on login (`phitray autostart on`) and Task Manager's on/off switch for it.
  DeleteRegValue HKCU "Software\Microsoft\Windows\CurrentVersion\Run" "${PRODUCT_NAME}"
  DeleteRegValue HKCU "Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run" "${PRODUCT_NAME}"
  ; The launch script's own output (pythonw has no console).
  Delete "$APPDATA\Phi_Tray.launch.pyw.log"
  ; The person's settings, actions and models stay unless they say otherwise; a silent
  ; uninstall (/S) keeps them, `/PURGE` removes them too.
  ${un.GetParameters} $0
  ClearErrors
  ${un.GetOptions} '$0' "/PURGE" $1
  IfErrors 0 purge
  IfSilent keep
  MessageBox MB_YESNO|MB_DEFBUTTON2 "Also remove your Phi Tray settings, actions and downloaded models ($LOCALAPPDATA\phitray)?" IDNO keep
  purge:
    RMDir /r "$LOCALAPPDATA\phitray"
  keep:
SectionEnd
[% endblock sections %]
